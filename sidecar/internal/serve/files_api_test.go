package serve

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	sidecarv1 "github.com/arl-infra/arl/proto/gen/arl/sidecar/v1"
	"github.com/arl-infra/arl/proto/gen/arl/sidecar/v1/sidecarv1connect"
)

// TestFilesAPIOverEveryProtocol runs ListDir, Stat, MakeDir, Rename,
// Remove, Watch, UploadFile, DownloadFile, UploadTar and DownloadTar
// through the generated client over gRPC, Connect JSON and gRPC-Web.
func TestFilesAPIOverEveryProtocol(t *testing.T) {
	sc := startSidecar(t, Config{Token: "s3cret"})
	for _, proto := range protocols {
		t.Run(proto.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			c := sc.client(proto.opts...)
			dir := filepath.Join(sc.workspace, proto.name)
			testDirCalls(ctx, t, c, dir)
			testWatch(ctx, t, c, dir)
			testFileStreams(ctx, t, c, dir)
			testTarStreams(ctx, t, c, dir)
		})
	}
}

func testDirCalls(ctx context.Context, t *testing.T, c sidecarv1connect.SidecarServiceClient, dir string) {
	t.Helper()
	mk, err := c.MakeDir(ctx, connect.NewRequest(&sidecarv1.MakeDirRequest{Path: dir + "/a/b", Parents: true, Mode: 0o750}))
	if err != nil || !mk.Msg.GetCreated() {
		t.Fatalf("MakeDir parents: %v %v", mk, err)
	}
	if _, err := c.MakeDir(ctx, connect.NewRequest(&sidecarv1.MakeDirRequest{Path: dir + "/a/b"})); connect.CodeOf(err) != connect.CodeAlreadyExists {
		t.Fatalf("MakeDir existing: %v", err)
	}
	if _, err := c.WriteFiles(ctx, connect.NewRequest(&sidecarv1.WriteFilesRequest{Files: []*sidecarv1.File{
		{Path: dir + "/a/one.txt", Content: []byte("1")}, {Path: dir + "/a/b/two.txt", Content: []byte("22")},
	}})); err != nil {
		t.Fatalf("WriteFiles: %v", err)
	}
	list, err := c.ListDir(ctx, connect.NewRequest(&sidecarv1.ListDirRequest{Path: dir + "/a", Depth: 2}))
	if err != nil {
		t.Fatalf("ListDir: %v", err)
	}
	var got []string
	for _, e := range list.Msg.GetEntries() {
		got = append(got, strings.TrimPrefix(e.GetPath(), dir)+":"+e.GetType().String())
	}
	want := "/a/b:FILE_TYPE_DIRECTORY /a/b/two.txt:FILE_TYPE_FILE /a/one.txt:FILE_TYPE_FILE"
	if strings.Join(got, " ") != want || list.Msg.GetTruncated() {
		t.Fatalf("ListDir depth 2: %v, want %s", got, want)
	}
	st, err := c.Stat(ctx, connect.NewRequest(&sidecarv1.StatRequest{Path: dir + "/a/b"}))
	if err != nil || st.Msg.GetInfo().GetType() != sidecarv1.FileType_FILE_TYPE_DIRECTORY || st.Msg.GetInfo().GetMode() != 0o750 || st.Msg.GetInfo().GetName() != "b" {
		t.Fatalf("Stat dir: %v %v", st, err)
	}
	if _, err := c.Rename(ctx, connect.NewRequest(&sidecarv1.RenameRequest{SourcePath: dir + "/a/one.txt", DestinationPath: dir + "/a/b/two.txt"})); connect.CodeOf(err) != connect.CodeAlreadyExists {
		t.Fatalf("Rename onto an existing file without overwrite: %v", err)
	}
	if _, err := c.Rename(ctx, connect.NewRequest(&sidecarv1.RenameRequest{SourcePath: dir + "/a/one.txt", DestinationPath: dir + "/a/b/two.txt", Overwrite: true})); err != nil {
		t.Fatalf("Rename with overwrite: %v", err)
	}
	if data, _ := os.ReadFile(dir + "/a/b/two.txt"); string(data) != "1" {
		t.Fatalf("after rename: %q", data)
	}
	if _, err := c.Remove(ctx, connect.NewRequest(&sidecarv1.RemoveRequest{Path: dir + "/a"})); connect.CodeOf(err) != connect.CodeFailedPrecondition {
		t.Fatalf("Remove non-empty without recursive: %v", err)
	}
	if _, err := c.Remove(ctx, connect.NewRequest(&sidecarv1.RemoveRequest{Path: dir + "/a", Recursive: true})); err != nil {
		t.Fatalf("Remove recursive: %v", err)
	}
	if _, err := c.Stat(ctx, connect.NewRequest(&sidecarv1.StatRequest{Path: dir + "/a"})); connect.CodeOf(err) != connect.CodeNotFound {
		t.Fatalf("Stat removed: %v", err)
	}
	if _, err := c.ListDir(ctx, connect.NewRequest(&sidecarv1.ListDirRequest{Path: "/etc"})); connect.CodeOf(err) != connect.CodePermissionDenied {
		t.Fatalf("ListDir outside: %v", err)
	}
}

func testWatch(ctx context.Context, t *testing.T, c sidecarv1connect.SidecarServiceClient, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir+"/w/sub", 0o755); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.Watch(wctx, connect.NewRequest(&sidecarv1.WatchRequest{Path: dir + "/w", Recursive: true}))
	if err != nil {
		t.Fatalf("Watch: %v", err)
	}
	defer stream.Close()
	if !stream.Receive() || stream.Msg().GetReady() == nil {
		t.Fatalf("Watch: no ready message: %v", stream.Err())
	}
	if err := os.WriteFile(dir+"/w/sub/new.txt", []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for stream.Receive() {
		ev := stream.Msg().GetChange()
		if ev.GetPath() == dir+"/w/sub/new.txt" && ev.GetOp() == sidecarv1.FileOp_FILE_OP_CREATE {
			return
		}
	}
	t.Fatalf("Watch: no create event for a file in a subdirectory: %v", stream.Err())
}

func testFileStreams(ctx context.Context, t *testing.T, c sidecarv1connect.SidecarServiceClient, dir string) {
	t.Helper()
	big := bytes.Repeat([]byte("0123456789abcdef"), 200_000) // 3.2 MB: more than one message
	up := c.UploadFile(ctx)
	if err := up.Send(&sidecarv1.UploadFileRequest{Event: &sidecarv1.UploadFileRequest_Header{Header: &sidecarv1.UploadFileHeader{Path: dir + "/big.bin", Mode: 0o600}}}); err != nil {
		t.Fatalf("UploadFile header: %v", err)
	}
	for rest := big; len(rest) > 0; {
		n := min(len(rest), 512<<10)
		if err := up.Send(&sidecarv1.UploadFileRequest{Event: &sidecarv1.UploadFileRequest_Data{Data: rest[:n]}}); err != nil {
			t.Fatalf("UploadFile data: %v", err)
		}
		rest = rest[n:]
	}
	resp, err := up.CloseAndReceive()
	if err != nil || resp.Msg.GetSize() != int64(len(big)) {
		t.Fatalf("UploadFile: %v %v", resp, err)
	}
	down, err := c.DownloadFile(ctx, connect.NewRequest(&sidecarv1.DownloadFileRequest{Path: dir + "/big.bin"}))
	if err != nil {
		t.Fatalf("DownloadFile: %v", err)
	}
	var got bytes.Buffer
	var info *sidecarv1.FileInfo
	for down.Receive() {
		if i := down.Msg().GetInfo(); i != nil {
			info = i
		}
		got.Write(down.Msg().GetData())
	}
	if err := down.Err(); err != nil || info.GetSize() != int64(len(big)) || info.GetMode() != 0o600 || !bytes.Equal(got.Bytes(), big) {
		t.Fatalf("DownloadFile: err %v info %v, %d bytes back", err, info, got.Len())
	}
	// A header-less upload is refused.
	up = c.UploadFile(ctx)
	_ = up.Send(&sidecarv1.UploadFileRequest{Event: &sidecarv1.UploadFileRequest_Data{Data: []byte("x")}})
	if _, err := up.CloseAndReceive(); connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Fatalf("UploadFile without header: %v", err)
	}
}

func testTarStreams(ctx context.Context, t *testing.T, c sidecarv1connect.SidecarServiceClient, dir string) {
	t.Helper()
	var archive bytes.Buffer
	tw := tar.NewWriter(&archive)
	for _, f := range []struct{ name, body string }{{"top.txt", "top"}, {"d/inner.txt", "inner"}} {
		_ = tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.body)), Typeflag: tar.TypeReg})
		_, _ = tw.Write([]byte(f.body))
	}
	_ = tw.WriteHeader(&tar.Header{Name: "link", Linkname: "top.txt", Typeflag: tar.TypeSymlink})
	_ = tw.Close()
	up := c.UploadTar(ctx)
	if err := up.Send(&sidecarv1.UploadTarRequest{Event: &sidecarv1.UploadTarRequest_Header{Header: &sidecarv1.UploadTarHeader{Path: dir + "/tree"}}}); err != nil {
		t.Fatalf("UploadTar header: %v", err)
	}
	if err := up.Send(&sidecarv1.UploadTarRequest{Event: &sidecarv1.UploadTarRequest_Data{Data: archive.Bytes()}}); err != nil {
		t.Fatalf("UploadTar data: %v", err)
	}
	resp, err := up.CloseAndReceive()
	if err != nil || resp.Msg.GetFiles() != 2 || resp.Msg.GetLinks() != 1 || resp.Msg.GetBytes() != 8 {
		t.Fatalf("UploadTar: %v %v", resp, err)
	}
	if data, err := os.ReadFile(dir + "/tree/d/inner.txt"); err != nil || string(data) != "inner" {
		t.Fatalf("extracted file: %q %v", data, err)
	}
	down, err := c.DownloadTar(ctx, connect.NewRequest(&sidecarv1.DownloadTarRequest{Path: dir + "/tree"}))
	if err != nil {
		t.Fatalf("DownloadTar: %v", err)
	}
	var back bytes.Buffer
	for down.Receive() {
		back.Write(down.Msg().GetData())
	}
	if err := down.Err(); err != nil {
		t.Fatalf("DownloadTar: %v", err)
	}
	tr := tar.NewReader(&back)
	var names []string
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("DownloadTar: not a tar: %v", err)
		}
		names = append(names, hdr.Name)
	}
	if strings.Join(names, " ") != "d/ d/inner.txt link top.txt" {
		t.Fatalf("DownloadTar entries: %v", names)
	}
	// An entry escaping the directory is refused.
	var evil bytes.Buffer
	tw = tar.NewWriter(&evil)
	_ = tw.WriteHeader(&tar.Header{Name: "../escape.txt", Mode: 0o644, Size: 1, Typeflag: tar.TypeReg})
	_, _ = tw.Write([]byte("x"))
	_ = tw.Close()
	up = c.UploadTar(ctx)
	_ = up.Send(&sidecarv1.UploadTarRequest{Event: &sidecarv1.UploadTarRequest_Header{Header: &sidecarv1.UploadTarHeader{Path: dir + "/tree"}}})
	_ = up.Send(&sidecarv1.UploadTarRequest{Event: &sidecarv1.UploadTarRequest_Data{Data: evil.Bytes()}})
	if _, err := up.CloseAndReceive(); connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Fatalf("UploadTar with ../: %v", err)
	}
	if _, err := os.Stat(dir + "/escape.txt"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a tar entry escaped: %v", err)
	}
}

// TestFilesOverREST runs the files REST paths with snake_case JSON.
func TestFilesOverREST(t *testing.T) {
	sc := startSidecar(t, Config{Token: "s3cret"})
	ws := sc.workspace
	q := func(p string) string { return url.QueryEscape(p) }
	status, body := sc.rest(t, "POST", "/files/mkdir", `{"path": "`+ws+`/r/s", "parents": true}`)
	if status != 200 || body["created"] != true {
		t.Fatalf("POST /files/mkdir: %d %v", status, body)
	}
	status, body = sc.rest(t, "POST", "/files/write", `{"files": [{"path": "`+ws+`/r/s/f.txt", "content": "aGk="}]}`)
	if status != 200 {
		t.Fatalf("POST /files/write: %d %v", status, body)
	}
	status, body = sc.rest(t, "GET", "/files/read?path="+q(ws+"/r/s/f.txt"), "")
	if status != 200 || body["content"] != "aGk=" || body["size"] != "2" {
		t.Fatalf("GET /files/read: %d %v", status, body)
	}
	status, body = sc.rest(t, "GET", "/files/list?path="+q(ws+"/r")+"&depth=2", "")
	entries, _ := body["entries"].([]any)
	if status != 200 || len(entries) != 2 {
		t.Fatalf("GET /files/list: %d %v", status, body)
	}
	first, _ := entries[0].(map[string]any)
	if first["type"] != "FILE_TYPE_DIRECTORY" || first["modified_at_ms"] == nil || first["symlink_target"] != "" {
		t.Fatalf("GET /files/list entry (snake_case, zero values present): %v", first)
	}
	status, body = sc.rest(t, "GET", "/files/stat?path="+q(ws+"/r/s/f.txt"), "")
	info, _ := body["info"].(map[string]any)
	if status != 200 || info["type"] != "FILE_TYPE_FILE" || info["mode"] != float64(0o644) {
		t.Fatalf("GET /files/stat: %d %v", status, body)
	}
	status, body = sc.rest(t, "POST", "/files/rename", `{"source_path": "`+ws+`/r/s/f.txt", "destination_path": "`+ws+`/r/g.txt"}`)
	if status != 200 {
		t.Fatalf("POST /files/rename: %d %v", status, body)
	}
	status, body = sc.rest(t, "POST", "/files/remove", `{"path": "`+ws+`/r", "recursive": true}`)
	if status != 200 {
		t.Fatalf("POST /files/remove: %d %v", status, body)
	}
	for _, c := range []struct {
		method, path, body string
		status             int
	}{
		{"GET", "/files/stat?path=" + q(ws+"/r"), "", http.StatusNotFound},
		{"GET", "/files/list?path=%2Fetc", "", http.StatusForbidden},
		{"POST", "/files/remove", `{"path": "` + ws + `"}`, http.StatusBadRequest},
		{"POST", "/files/mkdir", `{"path": "` + ws + `/x", "mode": 2541}`, http.StatusBadRequest},
		{"GET", "/files/read?path=" + q(ws+"/"), "", http.StatusBadRequest},
		{"POST", "/files/stat", `{}`, http.StatusMethodNotAllowed},
	} {
		status, body := sc.rest(t, c.method, c.path, c.body)
		if status != c.status || body["message"] == "" {
			t.Errorf("%s %s %s: %d %v, want %d with a message", c.method, c.path, c.body, status, body, c.status)
		}
	}
}
