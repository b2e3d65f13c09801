package service

import (
	"bufio"
	"context"

	"connectrpc.com/connect"

	sidecarv1 "github.com/arl-infra/arl/proto/gen/arl/sidecar/v1"
)

// DownloadTar streams a directory as a tar.
func (s *Service) DownloadTar(ctx context.Context, req *connect.Request[sidecarv1.DownloadTarRequest], stream *connect.ServerStream[sidecarv1.DownloadTarResponse]) error {
	store, err := s.files()
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(&tarStreamWriter{ctx: ctx, stream: stream}, fileChunkBytes)
	if _, err := store.WriteTar(req.Msg.GetPath(), w); err != nil {
		return toConnectError(err)
	}
	return toConnectError(w.Flush())
}

// tarStreamWriter sends each write as one DownloadTar message.
type tarStreamWriter struct {
	ctx    context.Context
	stream *connect.ServerStream[sidecarv1.DownloadTarResponse]
}

func (w *tarStreamWriter) Write(p []byte) (int, error) {
	if err := w.ctx.Err(); err != nil {
		return 0, err
	}
	if err := w.stream.Send(&sidecarv1.DownloadTarResponse{Data: p}); err != nil {
		return 0, err
	}
	return len(p), nil
}
