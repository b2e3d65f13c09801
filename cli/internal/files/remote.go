package files

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"connectrpc.com/connect"

	sidecarv1 "github.com/arl-infra/arl/proto/gen/arl/sidecar/v1"
	"github.com/arl-infra/arl/proto/gen/arl/sidecar/v1/sidecarv1connect"
)

// unpackScript extracts a tar from stdin whose top entry is $1 so that it
// ends up at $2 (inside $2 when $2 is an existing directory), as cp -r does.
const unpackScript = `set -e
name=$1; dst=$2
if [ -d "$dst" ] && [ ! -L "$dst" ]; then dst="$dst/$name"; fi
parent=$(dirname "$dst"); mkdir -p "$parent"
tmp=$(mktemp -d "$parent/.arl-cp.XXXXXX"); trap 'rm -rf "$tmp"' EXIT
tar -xf - -C "$tmp"
if [ -d "$tmp/$name" ] && [ -d "$dst" ]; then cp -a "$tmp/$name/." "$dst/"; else rm -f "$dst" 2>/dev/null || true; mv "$tmp/$name" "$dst"; fi`

// Upload copies the local file or directory src to dst in the sandbox,
// streaming a tar into `tar -x` over an Interact stream.
func Upload(ctx context.Context, c sidecarv1connect.SidecarServiceClient, src, dst string) error {
	if _, err := os.Stat(src); err != nil {
		return fmt.Errorf("local %w", err)
	}
	name := filepath.Base(filepath.Clean(src))
	if strings.HasSuffix(dst, "/") {
		dst = path.Join(dst, name)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream := c.Interact(ctx)
	defer func() { _ = stream.CloseResponse() }() // the copy's result is the tar's exit, checked below
	start := &sidecarv1.InteractStart{Command: []string{"sh", "-c", unpackScript, "sh", name, dst}}
	if err := stream.Send(&sidecarv1.InteractRequest{Event: &sidecarv1.InteractRequest_Start{Start: start}}); err != nil {
		return fmt.Errorf("starting tar in the sandbox: %w", err)
	}
	sendErr := make(chan error, 1)
	go func() {
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(WriteTar(pw, src, name)) }()
		buf := make([]byte, 256<<10)
		for {
			n, err := pr.Read(buf)
			if n > 0 {
				data := append([]byte(nil), buf[:n]...)
				if serr := stream.Send(&sidecarv1.InteractRequest{Event: &sidecarv1.InteractRequest_Stdin{Stdin: data}}); serr != nil {
					pr.CloseWithError(serr)
					sendErr <- fmt.Errorf("sending to the sandbox: %w", serr)
					return
				}
			}
			if errors.Is(err, io.EOF) {
				sendErr <- stream.Send(&sidecarv1.InteractRequest{Event: &sidecarv1.InteractRequest_Eof{Eof: true}})
				return
			}
			if err != nil {
				sendErr <- err
				cancel()
				return
			}
		}
	}()
	var stderr bytes.Buffer
	for {
		msg, err := stream.Receive()
		if err != nil {
			select {
			case serr := <-sendErr:
				if serr != nil {
					return serr
				}
			default:
			}
			return fmt.Errorf("copy stream: %w", err)
		}
		switch ev := msg.Event.(type) {
		case *sidecarv1.InteractResponse_Output:
			if ev.Output.Stream == sidecarv1.Stream_STREAM_STDERR && stderr.Len() < 8<<10 {
				stderr.Write(ev.Output.Data)
			}
		case *sidecarv1.InteractResponse_End:
			if serr := <-sendErr; serr != nil {
				return serr
			}
			if ev.End.ExitCode != 0 {
				return fmt.Errorf("unpacking into %s failed (exit %d): %s", dst, ev.End.ExitCode, strings.TrimSpace(stderr.String()))
			}
			return nil
		}
	}
}

// Download copies src (a file or directory in the sandbox) to the local
// dst: dst itself, or inside dst when that is an existing directory.
func Download(ctx context.Context, c sidecarv1connect.SidecarServiceClient, src, dst string) error {
	src = path.Clean(src)
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

	req := &sidecarv1.ExecuteStreamRequest{Command: []string{"tar", "-cf", "-", "-C", path.Dir(src), name}}
	stream, err := c.ExecuteStream(ctx, connect.NewRequest(req))
	if err != nil {
		return err
	}
	defer stream.Close()
	pr, pw := io.Pipe()
	extracted := make(chan error, 1)
	go func() {
		err := ExtractTar(pr, tmp)
		if err == nil {
			// tar's end-of-archive blocks and padding: read up to the end.
			_, _ = io.Copy(io.Discard, pr)
		}
		pr.CloseWithError(err)
		extracted <- err
	}()
	var stderr bytes.Buffer
	var end *sidecarv1.ProcessEnded
	for end == nil && stream.Receive() {
		switch ev := stream.Msg().Event.(type) {
		case *sidecarv1.ExecuteStreamResponse_Output:
			if ev.Output.Stream == sidecarv1.Stream_STREAM_STDERR {
				if stderr.Len() < 8<<10 {
					stderr.Write(ev.Output.Data)
				}
				continue
			}
			if _, err := pw.Write(ev.Output.Data); err != nil {
				pw.CloseWithError(err)
				if xerr := <-extracted; xerr != nil {
					return fmt.Errorf("extracting: %w", xerr)
				}
				return fmt.Errorf("extracting: %w", err)
			}
		case *sidecarv1.ExecuteStreamResponse_End:
			end = ev.End
		}
	}
	pw.Close()
	xerr := <-extracted
	if err := stream.Err(); err != nil {
		return err
	}
	if end == nil {
		return errors.New("the copy stream ended without tar's exit")
	}
	if end.ExitCode != 0 {
		msg := strings.TrimSpace(stderr.String())
		if strings.Contains(msg, "No such file") || strings.Contains(msg, "Cannot stat") {
			return fmt.Errorf("%s: no such file or directory in the sandbox", src)
		}
		return fmt.Errorf("packing %s in the sandbox failed (exit %d): %s", src, end.ExitCode, msg)
	}
	if xerr != nil {
		return xerr
	}
	if info, err := os.Stat(dst); err == nil && info.IsDir() {
		if err := os.RemoveAll(dst); err != nil {
			return err
		}
	}
	return os.Rename(filepath.Join(tmp, name), dst)
}
