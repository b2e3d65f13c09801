package sidecarrpc

import (
	"context"
	"fmt"
	"io"

	"connectrpc.com/connect"

	"github.com/arl-infra/arl/cli/internal/execstream"

	sidecarv1 "github.com/arl-infra/arl/proto/gen/arl/sidecar/v1"
	"github.com/arl-infra/arl/proto/gen/arl/sidecar/v1/sidecarv1connect"
)

// ErrNoEnd is a stream that ended cleanly without the command's end.
var ErrNoEnd = execstream.ErrNoEnd

// ExecResult is how a streamed command went.
type ExecResult struct {
	// Code is the exit code a shell would report (valid when Err is nil).
	Code int
	// Events counts the stream's messages: 0 with an error means the sidecar
	// answered nothing for this command (the call was refused or never got
	// through).
	Events int
	// Err is the call's error (nil when the command's end arrived).
	Err error
}

// StreamExec runs req with ExecuteStream, copies its output to stdout and
// stderr as it comes and returns the command's exit code (see EndCode).
func StreamExec(ctx context.Context, cl sidecarv1connect.SidecarServiceClient, req *sidecarv1.ExecuteStreamRequest, stdout, stderr io.Writer) ExecResult {
	stream, err := cl.ExecuteStream(ctx, connect.NewRequest(req))
	if err != nil {
		return ExecResult{Err: err}
	}
	defer stream.Close()
	var res ExecResult
	for stream.Receive() {
		res.Events++
		switch ev := stream.Msg().Event.(type) {
		case *sidecarv1.ExecuteStreamResponse_Output:
			w := stdout
			if ev.Output.Stream == sidecarv1.Stream_STREAM_STDERR {
				w = stderr
			}
			if _, err := w.Write(ev.Output.Data); err != nil {
				res.Err = fmt.Errorf("writing output: %w", err)
				return res
			}
		case *sidecarv1.ExecuteStreamResponse_End:
			res.Code = EndCode(stderr, ev.End)
			return res
		}
	}
	res.Err = stream.Err()
	if res.Err == nil {
		res.Err = ErrNoEnd
	}
	return res
}

// EndCode is the exit code a shell would report for a process end: 128+N
// for signal N, 124 (with a note on stderr) for a timeout (as the lean
// front's execstream.EndCode, which it calls).
func EndCode(stderr io.Writer, end *sidecarv1.ProcessEnded) int {
	return execstream.EndCode(stderr, execstream.End{
		ExitCode: end.ExitCode, TimedOut: end.TimedOut, Signal: end.Signal, DurationMs: end.DurationMs,
	})
}
