package serve

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	sidecarv1 "github.com/arl-infra/arl/proto/gen/arl/sidecar/v1"
)

// badInput is one bad request: an RPC, its JSON body, and the Connect code
// the sidecar must answer with.
type badInput struct {
	rpc  string
	body string
	code connect.Code
}

// restRoutes are the RPCs with a REST path.
var restRoutes = map[string][2]string{
	"Execute": {"POST", "/execute"}, "Signal": {"POST", "/signal"}, "Reset": {"POST", "/reset"},
	"WriteFiles": {"POST", "/files/write"}, "ReadFile": {"GET", "/files/read"}, "ListDir": {"GET", "/files/list"},
	"Stat": {"GET", "/files/stat"}, "MakeDir": {"POST", "/files/mkdir"}, "Remove": {"POST", "/files/remove"},
	"Rename": {"POST", "/files/rename"},
}

// semanticCorpus: well-formed requests with bad content. ws is the workspace.
func semanticCorpus(ws string) []badInput {
	j := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	file := func(path string, mode int) string {
		return j(map[string]any{"files": []any{map[string]any{"path": path, "content": "eA==", "mode": mode}}})
	}
	inv, out, nf := connect.CodeInvalidArgument, connect.CodePermissionDenied, connect.CodeNotFound
	cases := []badInput{
		{"Execute", `{}`, inv},
		{"Execute", `{"command": []}`, inv},
		{"Execute", `{"command": [""]}`, inv},
		{"Execute", `{"command": ["true"], "timeout_seconds": -1}`, inv},
		{"Execute", `{"command": ["a\u0000b"]}`, inv},
		{"Execute", `{"command": ["true"], "env": {"": "x"}}`, inv},
		{"Execute", `{"command": ["true"], "env": {"A=B": "x"}}`, inv},
		{"Execute", `{"command": ["true"], "env": {"A": "x\u0000"}}`, inv},
		{"Execute", `{"command": ["true"], "working_dir": "/nonexistent-dir-xyz"}`, inv},
		{"Execute", j(map[string]any{"command": []string{"true"}, "idempotency_key": strings.Repeat("k", 300)}), inv},
		{"Signal", `{}`, inv},
		{"Signal", `{"pid": -5, "signal": "SIGTERM"}`, inv},
		{"Signal", `{"pid": 1, "signal": "SIGFOO"}`, inv},
		{"Signal", `{"pid": 1, "signal": "SIGSTOP"}`, inv},
		{"Signal", fmt.Sprintf(`{"pid": %d, "signal": "SIGTERM"}`, os.Getpid()), out},
		{"Signal", `{"pid": 1, "signal": "SIGKILL"}`, out},
		{"Signal", `{"pid": 2147483647, "signal": "SIGTERM"}`, nf},
		{"GetProcess", `{"pid": 0}`, inv},
		{"GetProcess", `{"pid": 2147483647}`, nf},
		{"WriteFiles", `{"files": []}`, inv},
		{"WriteFiles", file("", 0), inv},
		{"WriteFiles", file("relative.txt", 0), inv},
		{"WriteFiles", file(ws+"/../etc/x", 0), inv},
		{"WriteFiles", file("/etc/arl-corpus", 0), out},
		{"WriteFiles", file(ws+"/dir/", 0), inv},
		{"WriteFiles", file(ws, 0), inv},
		{"WriteFiles", file(ws+"/suid", 0o4755), inv},
		{"WriteFiles", file(ws+"/sgid", 0o2755), inv},
		{"WriteFiles", file(ws+"/sticky", 0o1777), inv},
		{"WriteFiles", file(ws+"/big-mode", 0o10000), inv},
		{"WriteFiles", file(ws+"/nul\u0000", 0), inv},
		{"WriteFiles", file(ws+"/adir", 0), inv},
		{"WriteFiles", file(ws+"/escape/x", 0), out},
		{"WriteFiles", file(ws+"/abs-link/x", 0), out},
		{"WriteFiles", file(ws+"/afile/under", 0), inv},
		{"ReadFile", j(map[string]any{"path": ws + "/missing"}), nf},
		{"ReadFile", j(map[string]any{"path": ws + "/adir"}), inv},
		{"ReadFile", j(map[string]any{"path": ws + "/fifo"}), inv},
		{"ReadFile", j(map[string]any{"path": ws + "/escape/passwd"}), out},
		{"ReadFile", j(map[string]any{"path": ws + "/secret-link"}), out},
		{"ReadFile", j(map[string]any{"path": "/etc/passwd"}), out},
		{"ReadFile", j(map[string]any{"path": "/proc/self/environ"}), out},
		{"ReadFile", j(map[string]any{"path": ws + "/../etc/passwd"}), inv},
		{"ReadFile", j(map[string]any{"path": "etc/passwd"}), inv},
		{"ReadFile", j(map[string]any{"path": ws + "/afile/"}), inv},
		{"ReadFile", j(map[string]any{"path": ws}), inv},
		{"ReadFile", j(map[string]any{"path": ""}), inv},
		{"ReadFile", j(map[string]any{"path": ws + "/afile", "max_bytes": -1}), inv},
		{"ListDir", j(map[string]any{"path": ws + "/afile"}), inv},
		{"ListDir", j(map[string]any{"path": ws + "/missing"}), nf},
		{"ListDir", j(map[string]any{"path": "/etc"}), out},
		{"ListDir", j(map[string]any{"path": ws + "/escape"}), out},
		{"ListDir", j(map[string]any{"path": ws, "depth": -1}), inv},
		{"ListDir", j(map[string]any{"path": ws, "depth": 1000}), inv},
		{"ListDir", j(map[string]any{"path": "workspace"}), inv},
		{"Stat", j(map[string]any{"path": ws + "/missing"}), nf},
		{"Stat", j(map[string]any{"path": "/"}), out},
		{"Stat", j(map[string]any{"path": ""}), inv},
		{"Stat", j(map[string]any{"path": ws + "/escape/passwd"}), out},
		{"MakeDir", j(map[string]any{"path": ws + "/afile"}), connect.CodeAlreadyExists},
		{"MakeDir", j(map[string]any{"path": ws + "/newdir", "mode": 0o4755}), inv},
		{"MakeDir", j(map[string]any{"path": ws}), connect.CodeAlreadyExists},
		{"MakeDir", j(map[string]any{"path": "/tmp/arl-corpus"}), out},
		{"MakeDir", j(map[string]any{"path": ws + "/afile/sub", "parents": true}), inv},
		{"MakeDir", j(map[string]any{"path": ws + "/escape/sub", "parents": true}), out},
		{"Remove", j(map[string]any{"path": ws}), inv},
		{"Remove", j(map[string]any{"path": ws + "/"}), inv},
		{"Remove", j(map[string]any{"path": ws + "/missing"}), nf},
		{"Remove", j(map[string]any{"path": ws + "/full"}), connect.CodeFailedPrecondition},
		{"Remove", j(map[string]any{"path": "/etc/passwd"}), out},
		{"Remove", j(map[string]any{"path": ws + "/escape/passwd"}), out},
		{"Rename", j(map[string]any{"source_path": ws + "/missing", "destination_path": ws + "/x"}), nf},
		{"Rename", j(map[string]any{"source_path": ws + "/afile", "destination_path": "/tmp/arl-corpus"}), out},
		{"Rename", j(map[string]any{"source_path": ws, "destination_path": ws + "/x"}), inv},
		{"Rename", j(map[string]any{"source_path": ws + "/afile", "destination_path": ws + "/full/f"}), connect.CodeAlreadyExists},
		{"Rename", j(map[string]any{"source_path": "", "destination_path": ""}), inv},
		{"Rename", j(map[string]any{"source_path": ws + "/afile", "destination_path": ws + "/escape/x"}), out},
	}
	return cases
}

// jsonCorpus: bodies that are not valid requests at the JSON level
// (REST and Connect JSON only).
var jsonCorpus = []badInput{
	{"Execute", `{`, connect.CodeInvalidArgument},
	{"Execute", `[]`, connect.CodeInvalidArgument},
	{"Execute", `{"command": "ls"}`, connect.CodeInvalidArgument},
	{"Execute", `{"command": [1, 2]}`, connect.CodeInvalidArgument},
	{"Execute", `{"command": ["true"], "timeout_seconds": 1e20}`, connect.CodeInvalidArgument},
	{"Execute", `{"command": ["true"], "stdin": "!!not base64"}`, connect.CodeInvalidArgument},
	{"Execute", "{\"command\": [\"\xff\xfe\"]}", connect.CodeInvalidArgument},
	{"Execute", strings.Repeat("[", 10000), connect.CodeInvalidArgument},
	{"Signal", `{"pid": "abc", "signal": "SIGTERM"}`, connect.CodeInvalidArgument},
	{"Signal", `{"pid": 1.5}`, connect.CodeInvalidArgument},
	{"Reset", `{"preserve_files": "yes"}`, connect.CodeInvalidArgument},
	{"WriteFiles", `{"files": [{"path": 7}]}`, connect.CodeInvalidArgument},
	{"WriteFiles", `{"files": [{"mode": -1}]}`, connect.CodeInvalidArgument},
	{"MakeDir", `{"parents": "no"}`, connect.CodeInvalidArgument},
	{"Rename", `{"overwrite": 3}`, connect.CodeInvalidArgument},
}

// setUpCorpusWorkspace makes the entries the corpus refers to.
func setUpCorpusWorkspace(t *testing.T, ws string) {
	t.Helper()
	outside := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(outside, "passwd"), []byte("secret"), 0o644))
	must(os.Symlink("../../../../../../../.."+outside, filepath.Join(ws, "escape")))
	must(os.Symlink(outside, filepath.Join(ws, "abs-link")))
	must(os.Symlink(filepath.Join(outside, "passwd"), filepath.Join(ws, "secret-link")))
	must(os.Mkdir(filepath.Join(ws, "adir"), 0o755))
	must(os.MkdirAll(filepath.Join(ws, "full", "f"), 0o755))
	must(os.WriteFile(filepath.Join(ws, "afile"), []byte("x"), 0o644))
	must(syscall.Mkfifo(filepath.Join(ws, "fifo"), 0o644))
}

func heapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// TestBadInputCorpus sends every bad request over REST (where the RPC has a
// path), Connect JSON and gRPC: each must get its precise code and a
// message, and afterwards the sidecar must still be healthy, with its heap
// within 64 MiB of where it started.
func TestBadInputCorpus(t *testing.T) {
	sc := startSidecar(t, Config{Token: "tok", MaxBodyBytes: 1 << 20})
	ws := sc.workspace
	setUpCorpusWorkspace(t, ws)
	before := heapInUse()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	grpcCall := grpcCallers(sc)
	count := 0
	check := func(proto string, c badInput, code connect.Code, msg string) {
		t.Helper()
		count++
		if code != c.code || msg == "" {
			t.Errorf("%s %s %.120s: code %v message %q, want %v with a message", proto, c.rpc, c.body, code, msg, c.code)
		}
	}
	for _, c := range semanticCorpus(ws) {
		if route, ok := restRoutes[c.rpc]; ok {
			code, msg := sc.restCall(t, route, c.body)
			check("REST", c, code, msg)
		}
		code, msg := sc.connectJSONCall(t, c.rpc, c.body)
		check("Connect", c, code, msg)
		call := grpcCall[c.rpc]
		err := call(ctx, c.body)
		check("gRPC", c, connect.CodeOf(err), errMessage(err))
	}
	for _, c := range jsonCorpus {
		if route, ok := restRoutes[c.rpc]; ok && route[0] == "POST" {
			code, msg := sc.restCall(t, route, c.body)
			check("REST", c, code, msg)
		}
		code, msg := sc.connectJSONCall(t, c.rpc, c.body)
		check("Connect", c, code, msg)
	}
	// Protocol-level abuse.
	for _, c := range []struct {
		name string
		req  func() *http.Request
		want int
	}{
		{"oversized REST body", func() *http.Request {
			return sc.newRequest("POST", "/execute", bytes.NewReader(bytes.Repeat([]byte(" "), 2<<20)), "tok")
		}, http.StatusTooManyRequests},
		{"unauthenticated gzip bomb", func() *http.Request {
			r := sc.newRequest("POST", "/execute", bytes.NewReader(gzipBomb()), "")
			r.Header.Set("Content-Encoding", "gzip")
			return r
		}, http.StatusUnauthorized},
		{"unauthenticated /metrics", func() *http.Request { return sc.newRequest("GET", "/metrics", nil, "") }, http.StatusUnauthorized},
		{"wrong method", func() *http.Request { return sc.newRequest("GET", "/execute", nil, "tok") }, http.StatusMethodNotAllowed},
		{"unknown path", func() *http.Request { return sc.newRequest("GET", "/nope", nil, "tok") }, http.StatusNotFound},
		{"GET /files/read without a path", func() *http.Request { return sc.newRequest("GET", "/files/read", nil, "tok") }, http.StatusBadRequest},
	} {
		count++
		req := c.req()
		start := time.Now()
		resp, err := (&http.Client{Transport: sc.h1, Timeout: 30 * time.Second}).Do(req)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var decoded map[string]any
		if resp.StatusCode != c.want || json.Unmarshal(body, &decoded) != nil || decoded["message"] == "" {
			t.Errorf("%s: %d %q, want %d with a JSON message", c.name, resp.StatusCode, body, c.want)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s took %v", c.name, d)
		}
	}
	for _, garbage := range [][]byte{{0xff, 0xff}, []byte("\x0a\x05ab"), bytes.Repeat([]byte{0x80}, 64)} {
		count++
		status, msg := sc.rawGRPC(t, "/arl.sidecar.v1.SidecarService/Execute", garbage)
		if status != connect.CodeInvalidArgument && status != connect.CodeInternal || msg == "" {
			t.Errorf("gRPC garbage %x: code %v %q", garbage, status, msg)
		}
	}
	t.Logf("%d bad inputs answered", count)
	if count < 120 {
		t.Errorf("only %d cases, want at least 120", count)
	}
	for _, p := range protocols {
		if _, err := sc.client(p.opts...).Health(ctx, connect.NewRequest(&sidecarv1.HealthRequest{})); err != nil {
			t.Errorf("unhealthy over %s after the corpus: %v", p.name, err)
		}
	}
	if after := heapInUse(); after > before+64<<20 {
		t.Errorf("heap grew from %d to %d bytes", before, after)
	} else {
		t.Logf("heap in use: %d KiB before, %d KiB after", before>>10, after>>10)
	}
	if _, err := os.Stat("/etc/arl-corpus"); err == nil {
		t.Errorf("a file was written outside the workspace")
	}
}

func errMessage(err error) string {
	if ce, ok := err.(*connect.Error); ok {
		return ce.Message()
	}
	return ""
}

func gzipBomb() []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	zero := make([]byte, 1<<20)
	for i := 0; i < 16; i++ { // 16 MiB of zeros, ~70 KiB compressed
		_, _ = zw.Write(zero)
	}
	_ = zw.Close()
	return buf.Bytes()
}

func (s *testSidecar) newRequest(method, path string, body io.Reader, token string) *http.Request {
	r, _ := http.NewRequest(method, s.url+path, body)
	r.Header.Set("Content-Type", "application/json")
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	return r
}

// restCall sends body on a REST route (GET: as query parameters) and
// returns the code and message of the JSON error.
func (s *testSidecar) restCall(t *testing.T, route [2]string, body string) (connect.Code, string) {
	t.Helper()
	path := route[1]
	if route[0] == "GET" {
		var fields map[string]any
		if err := json.Unmarshal([]byte(body), &fields); err != nil {
			t.Fatalf("GET body %q: %v", body, err)
		}
		q := url.Values{}
		for k, v := range fields {
			q.Set(k, fmt.Sprint(v))
		}
		path += "?" + q.Encode()
		body = ""
	}
	status, decoded := s.rest(t, route[0], path, body)
	if status < 400 || status >= 500 {
		return connect.Code(0), fmt.Sprintf("HTTP %d", status)
	}
	code, _ := decoded["code"].(float64)
	msg, _ := decoded["message"].(string)
	return connect.Code(code), msg
}

func (s *testSidecar) connectJSONCall(t *testing.T, rpc, body string) (connect.Code, string) {
	t.Helper()
	status, decoded := s.rest(t, "POST", "/arl.sidecar.v1.SidecarService/"+rpc, body, "Connect-Protocol-Version", "1")
	if status < 400 || status >= 500 {
		return connect.Code(0), fmt.Sprintf("HTTP %d", status)
	}
	var code connect.Code
	name, _ := decoded["code"].(string)
	if err := code.UnmarshalText([]byte(name)); err != nil {
		return connect.Code(0), "bad code " + name
	}
	msg, _ := decoded["message"].(string)
	return code, msg
}

// rawGRPC sends one gRPC frame holding payload and returns grpc-status.
func (s *testSidecar) rawGRPC(t *testing.T, procedure string, payload []byte) (connect.Code, string) {
	t.Helper()
	frame := make([]byte, 5+len(payload))
	binary.BigEndian.PutUint32(frame[1:], uint32(len(payload)))
	copy(frame[5:], payload)
	r := s.newRequest("POST", procedure, bytes.NewReader(frame), s.token)
	r.Header.Set("Content-Type", "application/grpc")
	r.Header.Set("TE", "trailers")
	resp, err := (&http.Client{Transport: s.transport, Timeout: 30 * time.Second}).Do(r)
	if err != nil {
		t.Fatalf("raw gRPC: %v", err)
	}
	_, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	status := resp.Trailer.Get("Grpc-Status")
	if status == "" {
		status = resp.Header.Get("Grpc-Status")
	}
	code, err := strconv.Atoi(status)
	if err != nil {
		t.Fatalf("raw gRPC: grpc-status %q is not a number: %v", status, err)
	}
	msg := resp.Trailer.Get("Grpc-Message") + resp.Header.Get("Grpc-Message")
	return connect.Code(code), msg
}

// grpcCallers call each unary RPC over gRPC with a request decoded from JSON.
func grpcCallers(s *testSidecar) map[string]func(context.Context, string) error {
	c := s.client(connect.WithGRPC())
	return map[string]func(context.Context, string) error{
		"Execute":    unaryFromJSON(c.Execute),
		"Signal":     unaryFromJSON(c.Signal),
		"Reset":      unaryFromJSON(c.Reset),
		"GetProcess": unaryFromJSON(c.GetProcess),
		"WriteFiles": unaryFromJSON(c.WriteFiles),
		"ReadFile":   unaryFromJSON(c.ReadFile),
		"ListDir":    unaryFromJSON(c.ListDir),
		"Stat":       unaryFromJSON(c.Stat),
		"MakeDir":    unaryFromJSON(c.MakeDir),
		"Remove":     unaryFromJSON(c.Remove),
		"Rename":     unaryFromJSON(c.Rename),
	}
}

func unaryFromJSON[Req any, Res any, PReq interface {
	*Req
	proto.Message
}](call func(context.Context, *connect.Request[Req]) (*connect.Response[Res], error)) func(context.Context, string) error {
	return func(ctx context.Context, body string) error {
		req := PReq(new(Req))
		if err := (protojson.UnmarshalOptions{}).Unmarshal([]byte(body), req); err != nil {
			return fmt.Errorf("corpus body %q is not a valid request: %w", body, err)
		}
		_, err := call(ctx, connect.NewRequest((*Req)(req)))
		return err
	}
}
