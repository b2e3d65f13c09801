package service

import (
	"context"

	"connectrpc.com/connect"

	sidecarv1 "github.com/arl-infra/arl/proto/gen/arl/sidecar/v1"
	"github.com/arl-infra/arl/sidecar/internal/files"
)

// Watch streams the changes in a directory until the client goes away.
func (s *Service) Watch(ctx context.Context, req *connect.Request[sidecarv1.WatchRequest], stream *connect.ServerStream[sidecarv1.WatchResponse]) error {
	store, err := s.files()
	if err != nil {
		return err
	}
	ready := false
	err = store.Watch(ctx, req.Msg.GetPath(), req.Msg.GetRecursive(), func(ev files.Event) error {
		return stream.Send(&sidecarv1.WatchResponse{Event: &sidecarv1.WatchResponse_Change{
			Change: &sidecarv1.FileEvent{Path: ev.Path, Op: fileOp(ev.Op)},
		}})
	}, func() error {
		ready = true
		return stream.Send(&sidecarv1.WatchResponse{Event: &sidecarv1.WatchResponse_Ready{Ready: &sidecarv1.WatchReady{}}})
	})
	if err != nil && ready && ctx.Err() != nil {
		return nil // the client went away
	}
	return toConnectError(err)
}
