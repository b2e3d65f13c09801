package agentclient

import (
	"context"
	"errors"
	"io"

	"connectrpc.com/connect"

	sidecarv1 "github.com/arl-infra/arl/proto/gen/arl/sidecar/v1"
)

// Requests are rebuilt rather than passed on: the incoming headers
// (Authorization, protocol headers) must not reach the agent.

func (f *Forwarder) Execute(ctx context.Context, req *connect.Request[sidecarv1.ExecuteRequest]) (*connect.Response[sidecarv1.ExecuteResponse], error) {
	resp, err := f.client.Execute(ctx, connect.NewRequest(req.Msg))
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(resp.Msg), nil
}

func (f *Forwarder) GetProcess(ctx context.Context, req *connect.Request[sidecarv1.GetProcessRequest]) (*connect.Response[sidecarv1.GetProcessResponse], error) {
	resp, err := f.client.GetProcess(ctx, connect.NewRequest(req.Msg))
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(resp.Msg), nil
}

func (f *Forwarder) ListProcesses(ctx context.Context, req *connect.Request[sidecarv1.ListProcessesRequest]) (*connect.Response[sidecarv1.ListProcessesResponse], error) {
	resp, err := f.client.ListProcesses(ctx, connect.NewRequest(req.Msg))
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(resp.Msg), nil
}

func (f *Forwarder) Signal(ctx context.Context, req *connect.Request[sidecarv1.SignalRequest]) (*connect.Response[sidecarv1.SignalResponse], error) {
	resp, err := f.client.Signal(ctx, connect.NewRequest(req.Msg))
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(resp.Msg), nil
}

func (f *Forwarder) Reset(ctx context.Context, req *connect.Request[sidecarv1.ResetRequest]) (*connect.Response[sidecarv1.ResetResponse], error) {
	resp, err := f.client.Reset(ctx, connect.NewRequest(req.Msg))
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(resp.Msg), nil
}

func (f *Forwarder) ExecuteStream(ctx context.Context, req *connect.Request[sidecarv1.ExecuteStreamRequest], stream *connect.ServerStream[sidecarv1.ExecuteStreamResponse]) error {
	upstream, err := f.client.ExecuteStream(ctx, connect.NewRequest(req.Msg))
	if err != nil {
		return err
	}
	defer upstream.Close()
	for upstream.Receive() {
		if err := stream.Send(upstream.Msg()); err != nil {
			return err
		}
	}
	return upstream.Err()
}

func (f *Forwarder) Interact(ctx context.Context, stream *connect.BidiStream[sidecarv1.InteractRequest, sidecarv1.InteractResponse]) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	upstream := f.bidi.Interact(ctx)
	inputDone := make(chan struct{})
	inputErr := make(chan error, 1)
	go func() {
		defer close(inputDone)
		for {
			msg, err := stream.Receive()
			if err != nil {
				_ = upstream.CloseRequest()
				if code := connect.CodeOf(err); !errors.Is(err, io.EOF) && (code == connect.CodeResourceExhausted || code == connect.CodeInvalidArgument) {
					inputErr <- err // an oversized or undecodable message: tell the client
					cancel()
				}
				return
			}
			if err := upstream.Send(msg); err != nil {
				return
			}
		}
	}()
	defer func() {
		cancel()
		_ = upstream.CloseResponse()
	}()
	for {
		msg, err := upstream.Receive()
		if err != nil {
			select {
			case inErr := <-inputErr:
				return inErr
			default:
			}
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		if err := stream.Send(msg); err != nil {
			return err
		}
	}
}
