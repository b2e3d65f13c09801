package service

import (
	"context"
	"fmt"

	"connectrpc.com/connect"

	sidecarv1 "github.com/arl-infra/arl/proto/gen/arl/sidecar/v1"
)

// GetProcess reports a process's state and its kept output.
func (l *Local) GetProcess(_ context.Context, req *connect.Request[sidecarv1.GetProcessRequest]) (*connect.Response[sidecarv1.GetProcessResponse], error) {
	pid := req.Msg.GetPid()
	if pid <= 0 {
		return nil, invalid("pid must be positive")
	}
	p, ok := l.mgr.Get(int(pid))
	if !ok {
		return nil, connect.NewError(connect.CodeNotFound, fmt.Errorf("process %d was not started by this sandbox or is no longer kept", pid))
	}
	stdout, stdoutTruncated, stderr, stderrTruncated := p.Output()
	return connect.NewResponse(&sidecarv1.GetProcessResponse{
		Process:         processInfo(p.Info()),
		Stdout:          validUTF8(stdout),
		Stderr:          validUTF8(stderr),
		StdoutTruncated: stdoutTruncated,
		StderrTruncated: stderrTruncated,
	}), nil
}
