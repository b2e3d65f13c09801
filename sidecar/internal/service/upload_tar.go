package service

import (
	"context"
	"fmt"
	"io"

	"connectrpc.com/connect"

	sidecarv1 "github.com/arl-infra/arl/proto/gen/arl/sidecar/v1"
)

// UploadTar unpacks a streamed tar into a directory.
func (s *Service) UploadTar(_ context.Context, stream *connect.ClientStream[sidecarv1.UploadTarRequest]) (*connect.Response[sidecarv1.UploadTarResponse], error) {
	store, err := s.files()
	if err != nil {
		return nil, err
	}
	header, err := uploadHeader(stream, (*sidecarv1.UploadTarRequest).GetHeader, "directory")
	if err != nil {
		return nil, err
	}
	stats, err := store.ExtractTar(header.GetPath(), &tarStreamReader{stream: stream}, s.opts.MaxUploadBytes)
	if err != nil {
		return nil, toConnectError(err)
	}
	// Drain what follows the tar's end marker so the stream ends cleanly.
	if _, err := io.Copy(io.Discard, &tarStreamReader{stream: stream}); err != nil {
		return nil, toConnectError(err)
	}
	return connect.NewResponse(&sidecarv1.UploadTarResponse{
		Files: int32(stats.Files), Directories: int32(stats.Dirs), Links: int32(stats.Links), Bytes: stats.Bytes,
	}), nil
}

// tarStreamReader reads the data messages of an UploadTar stream as bytes.
type tarStreamReader struct {
	stream *connect.ClientStream[sidecarv1.UploadTarRequest]
	rest   []byte
}

func (r *tarStreamReader) Read(p []byte) (int, error) {
	for len(r.rest) == 0 {
		if !r.stream.Receive() {
			if err := r.stream.Err(); err != nil {
				return 0, err
			}
			return 0, io.EOF
		}
		data, ok := r.stream.Msg().GetEvent().(*sidecarv1.UploadTarRequest_Data)
		if !ok {
			return 0, invalid(fmt.Sprintf("only the first message may be a header; got %T later", r.stream.Msg().GetEvent()))
		}
		r.rest = data.Data
	}
	n := copy(p, r.rest)
	r.rest = r.rest[n:]
	return n, nil
}
