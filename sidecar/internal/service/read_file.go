package service

import (
	"context"

	"connectrpc.com/connect"

	sidecarv1 "github.com/arl-infra/arl/proto/gen/arl/sidecar/v1"
)

// ReadFile reads one file up to a cap.
func (s *Service) ReadFile(_ context.Context, req *connect.Request[sidecarv1.ReadFileRequest]) (*connect.Response[sidecarv1.ReadFileResponse], error) {
	store, err := s.files()
	if err != nil {
		return nil, err
	}
	if req.Msg.GetMaxBytes() < 0 {
		return nil, invalid("max_bytes must not be negative")
	}
	r, err := store.Read(req.Msg.GetPath(), req.Msg.GetMaxBytes())
	if err != nil {
		return nil, toConnectError(err)
	}
	return connect.NewResponse(&sidecarv1.ReadFileResponse{
		Content:   r.Content,
		Truncated: r.Truncated,
		Size:      r.Size,
		Mode:      uint32(r.Mode),
	}), nil
}
