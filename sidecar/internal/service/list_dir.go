package service

import (
	"context"

	"connectrpc.com/connect"

	sidecarv1 "github.com/arl-infra/arl/proto/gen/arl/sidecar/v1"
)

// maxListDepth bounds ListDir's depth.
const maxListDepth = 64

// ListDir lists a directory.
func (s *Service) ListDir(_ context.Context, req *connect.Request[sidecarv1.ListDirRequest]) (*connect.Response[sidecarv1.ListDirResponse], error) {
	store, err := s.files()
	if err != nil {
		return nil, err
	}
	depth := req.Msg.GetDepth()
	if depth < 0 || depth > maxListDepth {
		return nil, invalid("depth must be between 0 and 64")
	}
	entries, truncated, err := store.List(req.Msg.GetPath(), int(depth))
	if err != nil {
		return nil, toConnectError(err)
	}
	resp := &sidecarv1.ListDirResponse{Entries: make([]*sidecarv1.FileInfo, len(entries)), Truncated: truncated}
	for i, e := range entries {
		resp.Entries[i] = fileInfo(e)
	}
	return connect.NewResponse(resp), nil
}
