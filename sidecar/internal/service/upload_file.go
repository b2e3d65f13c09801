package service

import (
	"context"
	"errors"
	"fmt"
	"io"

	"connectrpc.com/connect"

	sidecarv1 "github.com/arl-infra/arl/proto/gen/arl/sidecar/v1"
)

// UploadFile writes one file from a client stream; the file appears
// atomically once the stream ends without error.
func (s *Service) UploadFile(_ context.Context, stream *connect.ClientStream[sidecarv1.UploadFileRequest]) (*connect.Response[sidecarv1.UploadFileResponse], error) {
	store, err := s.files()
	if err != nil {
		return nil, err
	}
	header, err := uploadHeader(stream, (*sidecarv1.UploadFileRequest).GetHeader, "path")
	if err != nil {
		return nil, err
	}
	f, err := store.Create(header.GetPath(), header.GetMode())
	if err != nil {
		return nil, toConnectError(err)
	}
	for stream.Receive() {
		data, ok := stream.Msg().GetEvent().(*sidecarv1.UploadFileRequest_Data)
		if !ok {
			f.Abort()
			return nil, invalid("only the first message may be a header; later ones carry data")
		}
		if f.Written()+int64(len(data.Data)) > s.opts.MaxUploadBytes {
			f.Abort()
			return nil, connect.NewError(connect.CodeResourceExhausted, fmt.Errorf("upload of %q: more than %d bytes", f.Path(), s.opts.MaxUploadBytes))
		}
		if _, err := f.Write(data.Data); err != nil {
			f.Abort()
			return nil, toConnectError(fmt.Errorf("upload of %q: %w", f.Path(), err))
		}
	}
	if err := stream.Err(); err != nil && !errors.Is(err, io.EOF) {
		f.Abort()
		return nil, err
	}
	if err := f.Commit(); err != nil {
		return nil, toConnectError(err)
	}
	return connect.NewResponse(&sidecarv1.UploadFileResponse{Path: f.Path(), Size: f.Written()}), nil
}
