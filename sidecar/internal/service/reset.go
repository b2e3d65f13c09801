package service

import (
	"context"
	"fmt"

	"connectrpc.com/connect"

	sidecarv1 "github.com/arl-infra/arl/proto/gen/arl/sidecar/v1"
	"github.com/arl-infra/arl/sidecar/internal/files"
)

// Reset ends every user process (here or in the agent) and, unless
// preserve_files, empties the workspace.
func (s *Service) Reset(ctx context.Context, req *connect.Request[sidecarv1.ResetRequest]) (*connect.Response[sidecarv1.ResetResponse], error) {
	resp, err := s.Processes.Reset(ctx, connect.NewRequest(&sidecarv1.ResetRequest{PreserveFiles: true}))
	if err != nil {
		return nil, err
	}
	out := &sidecarv1.ResetResponse{Success: true, ProcessesKilled: resp.Msg.GetProcessesKilled()}
	if req.Msg.GetPreserveFiles() || s.opts.Files == nil {
		out.Message = fmt.Sprintf("%d processes ended; files preserved", out.ProcessesKilled)
		return connect.NewResponse(out), nil
	}
	if err := files.Wipe(s.opts.Workspace); err != nil {
		return nil, connect.NewError(connect.CodeInternal, err)
	}
	out.Message = fmt.Sprintf("%d processes ended; workspace %s emptied", out.ProcessesKilled, s.opts.Workspace)
	return connect.NewResponse(out), nil
}

// Reset ends every user process of the local manager.
func (l *Local) Reset(_ context.Context, _ *connect.Request[sidecarv1.ResetRequest]) (*connect.Response[sidecarv1.ResetResponse], error) {
	killed := l.mgr.KillAll()
	return connect.NewResponse(&sidecarv1.ResetResponse{
		Success:         true,
		Message:         fmt.Sprintf("%d processes ended", killed),
		ProcessesKilled: int32(killed),
	}), nil
}
