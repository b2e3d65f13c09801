package service

import (
	"context"

	"connectrpc.com/connect"

	sidecarv1 "github.com/arl-infra/arl/proto/gen/arl/sidecar/v1"
)

// ListProcesses lists the processes this sandbox started.
func (l *Local) ListProcesses(_ context.Context, req *connect.Request[sidecarv1.ListProcessesRequest]) (*connect.Response[sidecarv1.ListProcessesResponse], error) {
	procs := l.mgr.List(req.Msg.GetIncludeDone())
	resp := &sidecarv1.ListProcessesResponse{Processes: make([]*sidecarv1.ProcessInfo, 0, len(procs))}
	for _, p := range procs {
		resp.Processes = append(resp.Processes, processInfo(p.Info()))
	}
	return connect.NewResponse(resp), nil
}
