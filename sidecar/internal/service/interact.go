package service

import (
	"context"
	"errors"
	"fmt"
	"io"

	"connectrpc.com/connect"

	sidecarv1 "github.com/arl-infra/arl/proto/gen/arl/sidecar/v1"
	"github.com/arl-infra/arl/sidecar/internal/process"
)

// Interact runs an interactive process: the first message starts it, later
// ones carry stdin, window resizes and EOF; output streams back as it
// comes. The process ends with the stream.
func (l *Local) Interact(ctx context.Context, stream *connect.BidiStream[sidecarv1.InteractRequest, sidecarv1.InteractResponse]) error {
	first, err := stream.Receive()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return invalid("the first message must be a start")
		}
		return err
	}
	start := first.GetStart()
	if start == nil {
		return invalid("the first message must be a start")
	}
	if len(start.GetCommand()) == 0 || start.GetCommand()[0] == "" {
		return invalid("command must not be empty")
	}
	if err := checkWindowSize(start.GetSize()); err != nil {
		return err
	}
	relay := newOutputRelay()
	defer relay.stop()
	p, err := l.mgr.Start(process.Spec{
		Argv:        start.GetCommand(),
		Dir:         start.GetWorkingDir(),
		Env:         start.GetEnv(),
		Interactive: true,
		PTY:         start.GetPty(),
		Rows:        uint16(start.GetSize().GetRows()),
		Cols:        uint16(start.GetSize().GetCols()),
		OnOutput:    relay.onOutput,
	})
	if err != nil {
		return toConnectError(err)
	}
	defer p.ReleaseOutput()
	defer p.KillTree()
	if err := stream.Send(&sidecarv1.InteractResponse{Event: &sidecarv1.InteractResponse_Start{Start: &sidecarv1.ProcessStarted{Pid: int32(p.Pid)}}}); err != nil {
		return err
	}
	if p.Pid == 0 {
		_, _, stderr, _ := p.Output()
		if err := stream.Send(&sidecarv1.InteractResponse{Event: &sidecarv1.InteractResponse_Output{Output: &sidecarv1.OutputChunk{Stream: sidecarv1.Stream_STREAM_STDERR, Data: []byte(stderr)}}}); err != nil {
			return err
		}
	}
	inputErr := make(chan error, 1)
	go func() { inputErr <- forwardInput(stream, p) }()
	for {
		select {
		case c := <-relay.chunks:
			if err := stream.Send(&sidecarv1.InteractResponse{Event: &sidecarv1.InteractResponse_Output{Output: outputChunk(c)}}); err != nil {
				return err
			}
		case <-p.Done():
			return stream.Send(&sidecarv1.InteractResponse{Event: &sidecarv1.InteractResponse_End{End: ended(p.Result())}})
		case err := <-inputErr:
			inputErr = nil // input is over; keep streaming output
			if err != nil {
				return err
			}
		case <-ctx.Done():
			return toConnectError(ctx.Err())
		}
	}
}

// forwardInput applies the client's stdin, resize and EOF messages until
// the client stops sending.
func forwardInput(stream *connect.BidiStream[sidecarv1.InteractRequest, sidecarv1.InteractResponse], p *process.Process) error {
	for {
		msg, err := stream.Receive()
		if err != nil {
			_ = p.CloseStdin()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if code := connect.CodeOf(err); code == connect.CodeResourceExhausted || code == connect.CodeInvalidArgument {
				// An oversized or undecodable message: tell the client.
				return err
			}
			return nil // the stream is gone; the handler notices through ctx or Send
		}
		switch ev := msg.GetEvent().(type) {
		case *sidecarv1.InteractRequest_Stdin:
			if err := p.WriteStdin(ev.Stdin); err != nil {
				return toConnectError(err)
			}
		case *sidecarv1.InteractRequest_Resize:
			if err := checkWindowSize(ev.Resize); err != nil {
				return err
			}
			if err := p.Resize(uint16(ev.Resize.GetRows()), uint16(ev.Resize.GetCols())); err != nil {
				return toConnectError(err)
			}
		case *sidecarv1.InteractRequest_Eof:
			if err := p.CloseStdin(); err != nil {
				return toConnectError(err)
			}
		case *sidecarv1.InteractRequest_Start:
			return invalid("the process is already started")
		default:
			return invalid("empty message")
		}
	}
}

// maxWindowSide bounds a PTY's rows and columns.
const maxWindowSide = 10000

// checkWindowSize refuses sizes the terminal cannot take (they would wrap
// at 16 bits).
func checkWindowSize(size *sidecarv1.WindowSize) error {
	if size.GetRows() > maxWindowSide || size.GetCols() > maxWindowSide {
		return invalid(fmt.Sprintf("window size %dx%d: rows and cols must be at most %d", size.GetRows(), size.GetCols(), maxWindowSide))
	}
	return nil
}
