package service

import (
	"context"

	"connectrpc.com/connect"

	sidecarv1 "github.com/arl-infra/arl/proto/gen/arl/sidecar/v1"
)

// MakeDir makes a directory.
func (s *Service) MakeDir(_ context.Context, req *connect.Request[sidecarv1.MakeDirRequest]) (*connect.Response[sidecarv1.MakeDirResponse], error) {
	store, err := s.files()
	if err != nil {
		return nil, err
	}
	created, err := store.MakeDir(req.Msg.GetPath(), req.Msg.GetParents(), req.Msg.GetMode())
	if err != nil {
		return nil, toConnectError(err)
	}
	return connect.NewResponse(&sidecarv1.MakeDirResponse{Created: created}), nil
}
