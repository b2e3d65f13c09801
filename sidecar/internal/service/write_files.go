package service

import (
	"context"

	"connectrpc.com/connect"

	"github.com/arl-infra/arl/sidecar/internal/files"

	sidecarv1 "github.com/arl-infra/arl/proto/gen/arl/sidecar/v1"
)

// WriteFiles writes every file of the request or none (files.Store.WriteAll).
func (s *Service) WriteFiles(_ context.Context, req *connect.Request[sidecarv1.WriteFilesRequest]) (*connect.Response[sidecarv1.WriteFilesResponse], error) {
	store, err := s.files()
	if err != nil {
		return nil, err
	}
	if len(req.Msg.GetFiles()) == 0 {
		return nil, invalid("files must not be empty")
	}
	batch := make([]files.File, len(req.Msg.GetFiles()))
	for i, f := range req.Msg.GetFiles() {
		batch[i] = files.File{Path: f.GetPath(), Content: f.GetContent(), Mode: f.GetMode()}
	}
	paths, err := store.WriteAll(batch)
	if err != nil {
		return nil, toConnectError(err)
	}
	resp := &sidecarv1.WriteFilesResponse{Files: make([]*sidecarv1.FileResult, len(paths))}
	for i, path := range paths {
		resp.Files[i] = &sidecarv1.FileResult{Path: path, Size: int64(len(batch[i].Content))}
	}
	return connect.NewResponse(resp), nil
}
