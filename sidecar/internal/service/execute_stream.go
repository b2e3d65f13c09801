package service

import (
	"context"

	"connectrpc.com/connect"

	sidecarv1 "github.com/arl-infra/arl/proto/gen/arl/sidecar/v1"
	"github.com/arl-infra/arl/sidecar/internal/process"
)

type chunk struct {
	stream process.Stream
	data   []byte
}

// outputRelay hands output chunks from the reader goroutines to the one
// goroutine allowed to send on the stream.
type outputRelay struct {
	chunks  chan chunk
	stopped chan struct{}
}

func newOutputRelay() *outputRelay {
	return &outputRelay{chunks: make(chan chunk), stopped: make(chan struct{})}
}

func (r *outputRelay) onOutput(stream process.Stream, data []byte) {
	c := chunk{stream: stream, data: append([]byte(nil), data...)}
	select {
	case r.chunks <- c:
	case <-r.stopped:
	}
}

// stop releases readers once nobody sends any more.
func (r *outputRelay) stop() { close(r.stopped) }

func outputChunk(c chunk) *sidecarv1.OutputChunk {
	stream := sidecarv1.Stream_STREAM_STDOUT
	if c.stream == process.Stderr {
		stream = sidecarv1.Stream_STREAM_STDERR
	}
	return &sidecarv1.OutputChunk{Stream: stream, Data: c.data}
}

// ExecuteStream runs a command and streams a start event, the output as it
// comes, and an end event. A client that goes away kills the process group.
func (l *Local) ExecuteStream(ctx context.Context, req *connect.Request[sidecarv1.ExecuteStreamRequest], stream *connect.ServerStream[sidecarv1.ExecuteStreamResponse]) error {
	msg := req.Msg
	if len(msg.GetCommand()) == 0 || msg.GetCommand()[0] == "" {
		return invalid("command must not be empty")
	}
	timeout, err := l.timeout(msg.GetTimeoutSeconds(), false)
	if err != nil {
		return err
	}
	relay := newOutputRelay()
	defer relay.stop()
	p, err := l.mgr.Start(process.Spec{
		Argv:     msg.GetCommand(),
		Dir:      msg.GetWorkingDir(),
		Env:      msg.GetEnv(),
		Timeout:  timeout,
		Stdin:    msg.GetStdin(),
		OnOutput: relay.onOutput,
	})
	if err != nil {
		return toConnectError(err)
	}
	defer p.ReleaseOutput()
	if err := stream.Send(&sidecarv1.ExecuteStreamResponse{Event: &sidecarv1.ExecuteStreamResponse_Start{Start: &sidecarv1.ProcessStarted{Pid: int32(p.Pid)}}}); err != nil {
		p.KillTree()
		return err
	}
	if p.Pid == 0 {
		// Never started: the message went to the process's stderr already.
		_, _, stderr, _ := p.Output()
		if err := stream.Send(&sidecarv1.ExecuteStreamResponse{Event: &sidecarv1.ExecuteStreamResponse_Output{Output: &sidecarv1.OutputChunk{Stream: sidecarv1.Stream_STREAM_STDERR, Data: []byte(stderr)}}}); err != nil {
			return err
		}
	}
	for {
		select {
		case c := <-relay.chunks:
			if err := stream.Send(&sidecarv1.ExecuteStreamResponse{Event: &sidecarv1.ExecuteStreamResponse_Output{Output: outputChunk(c)}}); err != nil {
				p.KillTree()
				return err
			}
		case <-p.Done():
			return stream.Send(&sidecarv1.ExecuteStreamResponse{Event: &sidecarv1.ExecuteStreamResponse_End{End: ended(p.Result())}})
		case <-ctx.Done():
			p.KillTree()
			return toConnectError(ctx.Err())
		}
	}
}
