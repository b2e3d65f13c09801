package service

import (
	"context"
	"errors"
	"fmt"
	"io"

	"connectrpc.com/connect"

	sidecarv1 "github.com/arl-infra/arl/proto/gen/arl/sidecar/v1"
	"github.com/arl-infra/arl/sidecar/internal/files"
)

// DownloadFile streams one regular file: its info, then its bytes.
func (s *Service) DownloadFile(ctx context.Context, req *connect.Request[sidecarv1.DownloadFileRequest], stream *connect.ServerStream[sidecarv1.DownloadFileResponse]) error {
	store, err := s.files()
	if err != nil {
		return err
	}
	f, info, err := store.OpenRead(req.Msg.GetPath())
	if err != nil {
		return toConnectError(err)
	}
	defer f.Close()
	st, err := store.Stat(req.Msg.GetPath())
	if err != nil {
		return toConnectError(err)
	}
	// The size and mode are the open file's (Stat could see a swapped entry).
	st.Type, st.Size, st.Mode, st.ModTime, st.SymlinkTarget = files.TypeFile, info.Size(), info.Mode().Perm(), info.ModTime(), ""
	if err := stream.Send(&sidecarv1.DownloadFileResponse{Event: &sidecarv1.DownloadFileResponse_Info{Info: fileInfo(st)}}); err != nil {
		return err
	}
	buf := make([]byte, fileChunkBytes)
	for {
		if err := ctx.Err(); err != nil {
			return toConnectError(err)
		}
		n, err := f.Read(buf)
		if n > 0 {
			if err := stream.Send(&sidecarv1.DownloadFileResponse{Event: &sidecarv1.DownloadFileResponse_Data{Data: buf[:n]}}); err != nil {
				return err
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return toConnectError(fmt.Errorf("download %q: %w", req.Msg.GetPath(), err))
		}
	}
}
