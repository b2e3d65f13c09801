package service

import (
	"context"

	"connectrpc.com/connect"

	sidecarv1 "github.com/arl-infra/arl/proto/gen/arl/sidecar/v1"
)

// Stat describes one path.
func (s *Service) Stat(_ context.Context, req *connect.Request[sidecarv1.StatRequest]) (*connect.Response[sidecarv1.StatResponse], error) {
	store, err := s.files()
	if err != nil {
		return nil, err
	}
	info, err := store.Stat(req.Msg.GetPath())
	if err != nil {
		return nil, toConnectError(err)
	}
	return connect.NewResponse(&sidecarv1.StatResponse{Info: fileInfo(info)}), nil
}
