package service

import (
	"context"

	"connectrpc.com/connect"

	sidecarv1 "github.com/arl-infra/arl/proto/gen/arl/sidecar/v1"
)

// Rename moves a file or directory.
func (s *Service) Rename(_ context.Context, req *connect.Request[sidecarv1.RenameRequest]) (*connect.Response[sidecarv1.RenameResponse], error) {
	store, err := s.files()
	if err != nil {
		return nil, err
	}
	if err := store.Rename(req.Msg.GetSourcePath(), req.Msg.GetDestinationPath(), req.Msg.GetOverwrite()); err != nil {
		return nil, toConnectError(err)
	}
	return connect.NewResponse(&sidecarv1.RenameResponse{}), nil
}
