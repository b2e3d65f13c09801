package service

import (
	"context"

	"connectrpc.com/connect"

	sidecarv1 "github.com/arl-infra/arl/proto/gen/arl/sidecar/v1"
)

// Remove removes a file, symlink or directory.
func (s *Service) Remove(_ context.Context, req *connect.Request[sidecarv1.RemoveRequest]) (*connect.Response[sidecarv1.RemoveResponse], error) {
	store, err := s.files()
	if err != nil {
		return nil, err
	}
	if err := store.Remove(req.Msg.GetPath(), req.Msg.GetRecursive()); err != nil {
		return nil, toConnectError(err)
	}
	return connect.NewResponse(&sidecarv1.RemoveResponse{}), nil
}
