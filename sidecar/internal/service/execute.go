package service

import (
	"context"
	"strings"
	"unicode/utf8"

	"connectrpc.com/connect"

	sidecarv1 "github.com/arl-infra/arl/proto/gen/arl/sidecar/v1"
	"github.com/arl-infra/arl/sidecar/internal/process"
)

// Execute runs a command in the foreground (waits, returns its output) or
// in the background (returns at once with the pid).
func (l *Local) Execute(ctx context.Context, req *connect.Request[sidecarv1.ExecuteRequest]) (*connect.Response[sidecarv1.ExecuteResponse], error) {
	msg := req.Msg
	if len(msg.GetCommand()) == 0 || msg.GetCommand()[0] == "" {
		return nil, invalid("command must not be empty")
	}
	timeout, err := l.timeout(msg.GetTimeoutSeconds(), msg.GetBackground())
	if err != nil {
		return nil, err
	}
	p, err := l.mgr.Start(process.Spec{
		Argv:       msg.GetCommand(),
		Dir:        msg.GetWorkingDir(),
		Env:        msg.GetEnv(),
		Background: msg.GetBackground(),
		Timeout:    timeout,
		Stdin:      msg.GetStdin(),
		// A foreground run is awaited in this goroutine.
		CallerWaits: !msg.GetBackground(),
	})
	if err != nil {
		return nil, toConnectError(err)
	}
	if msg.GetBackground() {
		resp := &sidecarv1.ExecuteResponse{Pid: int32(p.Pid)}
		select {
		case <-p.Done(): // a command that could not start
			fillFinished(resp, p)
		default:
		}
		return connect.NewResponse(resp), nil
	}
	p.Wait(ctx)
	if err := ctx.Err(); err != nil {
		return nil, toConnectError(err)
	}
	resp := &sidecarv1.ExecuteResponse{Pid: int32(p.Pid)}
	fillFinished(resp, p)
	p.ReleaseOutput()
	return connect.NewResponse(resp), nil
}

func fillFinished(resp *sidecarv1.ExecuteResponse, p *process.Process) {
	r := p.Result()
	stdout, _, stderr, _ := p.Output()
	resp.Stdout = validUTF8(stdout)
	resp.Stderr = validUTF8(stderr)
	resp.ExitCode = int32(r.ExitCode)
	resp.Done = true
	resp.TimedOut = r.TimedOut
	resp.StdoutTruncated = r.StdoutTruncated
	resp.StderrTruncated = r.StderrTruncated
	resp.Signal = r.Signal
	resp.DurationMs = r.Duration.Milliseconds()
}

// validUTF8 keeps output marshalable as a proto string: binary output and a
// multi-byte character cut by the output cap become U+FFFD.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}
