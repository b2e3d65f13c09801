// Package service implements arl.sidecar.v1.SidecarService: one file per
// RPC. Process RPCs run either here (Local) or in the in-executor agent
// (a forwarding Processes); files always stay in the serving process.
package service

import (
	"context"
	"errors"

	"connectrpc.com/connect"

	sidecarv1 "github.com/arl-infra/arl/proto/gen/arl/sidecar/v1"
	"github.com/arl-infra/arl/proto/gen/arl/sidecar/v1/sidecarv1connect"
	"github.com/arl-infra/arl/sidecar/internal/files"
)

// Processes is the process half of the service.
type Processes interface {
	Execute(context.Context, *connect.Request[sidecarv1.ExecuteRequest]) (*connect.Response[sidecarv1.ExecuteResponse], error)
	ExecuteStream(context.Context, *connect.Request[sidecarv1.ExecuteStreamRequest], *connect.ServerStream[sidecarv1.ExecuteStreamResponse]) error
	Interact(context.Context, *connect.BidiStream[sidecarv1.InteractRequest, sidecarv1.InteractResponse]) error
	GetProcess(context.Context, *connect.Request[sidecarv1.GetProcessRequest]) (*connect.Response[sidecarv1.GetProcessResponse], error)
	ListProcesses(context.Context, *connect.Request[sidecarv1.ListProcessesRequest]) (*connect.Response[sidecarv1.ListProcessesResponse], error)
	Signal(context.Context, *connect.Request[sidecarv1.SignalRequest]) (*connect.Response[sidecarv1.SignalResponse], error)
	Reset(context.Context, *connect.Request[sidecarv1.ResetRequest]) (*connect.Response[sidecarv1.ResetResponse], error)
}

// Options configure a Service.
type Options struct {
	// Files serves WriteFiles/ReadFile and wipes Workspace on Reset; nil in
	// the agent, which only runs processes.
	Files     *files.Store
	Workspace string
	// Ready, when set, must succeed for Health to report serving (the
	// agent must answer).
	Ready   func(context.Context) error
	Version string
	// MaxUploadBytes caps one UploadFile or UploadTar (file content
	// written); 0 means DefaultMaxUploadBytes.
	MaxUploadBytes int64
}

// DefaultMaxUploadBytes caps a streamed upload when Options leave it unset.
const DefaultMaxUploadBytes = 1 << 30

// Service is the full SidecarService handler.
type Service struct {
	Processes
	opts Options
}

var _ sidecarv1connect.SidecarServiceHandler = (*Service)(nil)

// New builds a Service from its process half and options.
func New(procs Processes, opts Options) *Service {
	if opts.MaxUploadBytes <= 0 {
		opts.MaxUploadBytes = DefaultMaxUploadBytes
	}
	return &Service{Processes: procs, opts: opts}
}

// files is the file store, or Unimplemented in the agent.
func (s *Service) files() (*files.Store, error) {
	if s.opts.Files == nil {
		return nil, connect.NewError(connect.CodeUnimplemented, errors.New("files are served by the sidecar, not the agent"))
	}
	return s.opts.Files, nil
}
