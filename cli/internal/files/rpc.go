package files

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"

	"connectrpc.com/connect"

	sidecarv1 "github.com/arl-infra/arl/proto/gen/arl/sidecar/v1"
	"github.com/arl-infra/arl/proto/gen/arl/sidecar/v1/sidecarv1connect"
)

// chunk is the size of the data messages of the upload streams.
const chunk = 256 << 10

// Put copies the local file or directory src to dst in the sandbox over the
// sidecar's file calls (UploadFile, UploadTar). dst is the new path, or a
// directory to put src into when it is an existing directory or ends in /.
func Put(ctx context.Context, c sidecarv1connect.SidecarServiceClient, src, dst string) error {
	info, err := os.Stat(src)
	if err != nil {
		return fmt.Errorf("local %w", err)
	}
	name := filepath.Base(filepath.Clean(src))
	if isDir, err := remoteIsDir(ctx, c, dst); err != nil {
		return err
	} else if isDir || dst[len(dst)-1] == '/' {
		dst = path.Join(dst, name)
	}
	if !info.IsDir() {
		return putFile(ctx, c, src, dst, uint32(info.Mode().Perm()))
	}
	stream := c.UploadTar(ctx)
	if err := stream.Send(&sidecarv1.UploadTarRequest{Event: &sidecarv1.UploadTarRequest_Header{Header: &sidecarv1.UploadTarHeader{Path: dst}}}); err != nil {
		return closeErr(stream.CloseAndReceive, err)
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(WriteTar(pw, src, "")) }()
	if err := sendChunks(pr, func(b []byte) error {
		return stream.Send(&sidecarv1.UploadTarRequest{Event: &sidecarv1.UploadTarRequest_Data{Data: b}})
	}); err != nil {
		pr.CloseWithError(err)
		return closeErr(stream.CloseAndReceive, err)
	}
	_, err = stream.CloseAndReceive()
	return err
}

func putFile(ctx context.Context, c sidecarv1connect.SidecarServiceClient, src, dst string, mode uint32) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	stream := c.UploadFile(ctx)
	hdr := &sidecarv1.UploadFileHeader{Path: dst, Mode: mode}
	if err := stream.Send(&sidecarv1.UploadFileRequest{Event: &sidecarv1.UploadFileRequest_Header{Header: hdr}}); err != nil {
		return closeErr(stream.CloseAndReceive, err)
	}
	if err := sendChunks(f, func(b []byte) error {
		return stream.Send(&sidecarv1.UploadFileRequest{Event: &sidecarv1.UploadFileRequest_Data{Data: b}})
	}); err != nil {
		return closeErr(stream.CloseAndReceive, err)
	}
	_, err = stream.CloseAndReceive()
	return err
}

// closeErr prefers the server's error (the reason a Send failed).
func closeErr[T any](closeFn func() (*connect.Response[T], error), err error) error {
	if _, cerr := closeFn(); cerr != nil {
		return cerr
	}
	return err
}

func sendChunks(r io.Reader, send func([]byte) error) error {
	buf := make([]byte, chunk)
	for {
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			if serr := send(append([]byte(nil), buf[:n]...)); serr != nil {
				return serr
			}
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func remoteIsDir(ctx context.Context, c sidecarv1connect.SidecarServiceClient, p string) (bool, error) {
	resp, err := c.Stat(ctx, connect.NewRequest(&sidecarv1.StatRequest{Path: path.Clean(p)}))
	if connect.CodeOf(err) == connect.CodeNotFound {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return resp.Msg.GetInfo().GetType() == sidecarv1.FileType_FILE_TYPE_DIRECTORY, nil
}

// Get copies src (a file or directory in the sandbox) to the local dst over
// the sidecar's file calls (DownloadFile, DownloadTar).
func Get(ctx context.Context, c sidecarv1connect.SidecarServiceClient, src, dst string) error {
	src = path.Clean(src)
	st, err := c.Stat(ctx, connect.NewRequest(&sidecarv1.StatRequest{Path: src}))
	if err != nil {
		if connect.CodeOf(err) == connect.CodeNotFound {
			return fmt.Errorf("%s: no such file or directory in the sandbox", src)
		}
		return err
	}
	name := path.Base(src)
	if info, err := os.Stat(dst); err == nil && info.IsDir() {
		dst = filepath.Join(dst, name)
	}
	parent := filepath.Dir(dst)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, ".arl-cp.")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	out := filepath.Join(tmp, name)
	if st.Msg.GetInfo().GetType() == sidecarv1.FileType_FILE_TYPE_DIRECTORY {
		stream, err := c.DownloadTar(ctx, connect.NewRequest(&sidecarv1.DownloadTarRequest{Path: src}))
		if err != nil {
			return err
		}
		defer stream.Close()
		pr, pw := io.Pipe()
		done := make(chan error, 1)
		go func() {
			err := ExtractTar(pr, out)
			pr.CloseWithError(err)
			done <- err
		}()
		for stream.Receive() {
			if _, err := pw.Write(stream.Msg().GetData()); err != nil {
				break
			}
		}
		pw.CloseWithError(stream.Err())
		if err := <-done; err != nil {
			return err
		}
		if err := stream.Err(); err != nil {
			return err
		}
	} else {
		stream, err := c.DownloadFile(ctx, connect.NewRequest(&sidecarv1.DownloadFileRequest{Path: src}))
		if err != nil {
			return err
		}
		defer stream.Close()
		f, err := os.OpenFile(out, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
		if err != nil {
			return err
		}
		for stream.Receive() {
			switch ev := stream.Msg().Event.(type) {
			case *sidecarv1.DownloadFileResponse_Info:
				_ = f.Chmod(os.FileMode(ev.Info.GetMode()).Perm())
			case *sidecarv1.DownloadFileResponse_Data:
				if _, err := f.Write(ev.Data); err != nil {
					f.Close()
					return err
				}
			}
		}
		if err := f.Close(); err != nil {
			return err
		}
		if err := stream.Err(); err != nil {
			return err
		}
	}
	if info, err := os.Stat(dst); err == nil && info.IsDir() {
		if err := os.RemoveAll(dst); err != nil {
			return err
		}
	}
	return os.Rename(out, dst)
}

// CopyTo uploads with the file calls (Put), or with tar through a process
// (Upload) when the sidecar predates them.
func CopyTo(ctx context.Context, c sidecarv1connect.SidecarServiceClient, src, dst string) error {
	err := Put(ctx, c, src, dst)
	if connect.CodeOf(err) == connect.CodeUnimplemented {
		return Upload(ctx, c, src, dst)
	}
	return err
}

// CopyFrom downloads with the file calls (Get), or with tar through a
// process (Download) when the sidecar predates them.
func CopyFrom(ctx context.Context, c sidecarv1connect.SidecarServiceClient, src, dst string) error {
	err := Get(ctx, c, src, dst)
	if connect.CodeOf(err) == connect.CodeUnimplemented {
		return Download(ctx, c, src, dst)
	}
	return err
}
