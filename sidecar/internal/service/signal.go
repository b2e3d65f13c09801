package service

import (
	"context"
	"fmt"

	"connectrpc.com/connect"

	sidecarv1 "github.com/arl-infra/arl/proto/gen/arl/sidecar/v1"
	"github.com/arl-infra/arl/sidecar/internal/process"
)

// Signal sends an allowed signal to a process of the sandbox's own tree.
func (l *Local) Signal(_ context.Context, req *connect.Request[sidecarv1.SignalRequest]) (*connect.Response[sidecarv1.SignalResponse], error) {
	name, sig, err := process.ParseSignal(req.Msg.GetSignal())
	if err != nil {
		return nil, connect.NewError(connect.CodeInvalidArgument, err)
	}
	pid := req.Msg.GetPid()
	if pid <= 0 {
		return nil, invalid("pid must be positive")
	}
	if err := l.mgr.Signal(int(pid), sig); err != nil {
		return nil, toConnectError(err)
	}
	return connect.NewResponse(&sidecarv1.SignalResponse{
		Success: true,
		Message: fmt.Sprintf("signal %s sent to process %d", name, pid),
	}), nil
}
