package service

import (
	"context"

	"connectrpc.com/connect"

	sidecarv1 "github.com/arl-infra/arl/proto/gen/arl/sidecar/v1"
)

// WriteFiles writes each file atomically; it stops at the first failure.
func (s *Service) WriteFiles(_ context.Context, req *connect.Request[sidecarv1.WriteFilesRequest]) (*connect.Response[sidecarv1.WriteFilesResponse], error) {
	store, err := s.files()
	if err != nil {
		return nil, err
	}
	if len(req.Msg.GetFiles()) == 0 {
		return nil, invalid("files must not be empty")
	}
	resp := &sidecarv1.WriteFilesResponse{Files: make([]*sidecarv1.FileResult, 0, len(req.Msg.GetFiles()))}
	for _, f := range req.Msg.GetFiles() {
		path, err := store.Write(f.GetPath(), f.GetContent(), f.GetMode())
		if err != nil {
			return nil, toConnectError(err)
		}
		resp.Files = append(resp.Files, &sidecarv1.FileResult{Path: path, Size: int64(len(f.GetContent()))})
	}
	return connect.NewResponse(resp), nil
}
