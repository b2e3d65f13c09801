package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"connectrpc.com/connect"
	"go.uber.org/goleak"

	"github.com/arl-infra/arl/proto/gen/arl/sidecar/v1/sidecarv1connect"
	"github.com/arl-infra/arl/sidecar/internal/server"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testSidecar is a real sidecar on a real loopback listener.
type testSidecar struct {
	url       string
	workspace string
	token     string
	transport *http.Transport
	h1        *http.Transport
}

// protocols are the client flavours every RPC is tested with.
var protocols = []struct {
	name string
	opts []connect.ClientOption
}{
	{"grpc", []connect.ClientOption{connect.WithGRPC()}},
	{"connect-json", []connect.ClientOption{connect.WithProtoJSON()}},
	{"grpc-web", []connect.ClientOption{connect.WithGRPCWeb()}},
}

func startSidecar(t testing.TB, cfg Config) *testSidecar {
	t.Helper()
	if cfg.Workspace == "" {
		cfg.Workspace = t.TempDir()
	}
	if cfg.MaxOutputBytes == 0 {
		cfg.MaxOutputBytes = 1 << 20
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	if cfg.MaxForegroundTimeout == 0 {
		cfg.MaxForegroundTimeout = time.Minute
	}
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg.OwnAllChildren = true // as in the binary: this test binary starts no children of its own
	sc, err := New(cfg)
	if err != nil {
		t.Fatalf("new sidecar: %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := server.NewHTTPServer(sc.Handler)
	go func() {
		if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
	}()
	var h2c http.Protocols
	h2c.SetUnencryptedHTTP2(true)
	ts := &testSidecar{
		url:       "http://" + l.Addr().String(),
		workspace: cfg.Workspace,
		token:     cfg.Token,
		transport: &http.Transport{Protocols: &h2c},
		h1:        &http.Transport{},
	}
	t.Cleanup(func() {
		ts.transport.CloseIdleConnections()
		ts.h1.CloseIdleConnections()
		srv.Close()
		sc.Close()
	})
	return ts
}

// bearer adds the token to every request.
type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	if b.token != "" {
		r = r.Clone(r.Context())
		r.Header.Set("Authorization", "Bearer "+b.token)
	}
	return b.next.RoundTrip(r)
}

func (s *testSidecar) client(opts ...connect.ClientOption) sidecarv1connect.SidecarServiceClient {
	return sidecarv1connect.NewSidecarServiceClient(&http.Client{Transport: bearer{s.token, s.transport}}, s.url, opts...)
}

// rest calls a REST path with a JSON body over HTTP/1.1 and decodes the
// JSON answer into a generic map.
func (s *testSidecar) rest(t testing.TB, method, path, body string, headers ...string) (int, map[string]any) {
	t.Helper()
	status, raw := s.restRaw(t, method, path, body, headers...)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s %s: status %d, body is not JSON: %q", method, path, status, raw)
	}
	return status, out
}

func (s *testSidecar) restRaw(t testing.TB, method, path, body string, headers ...string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, s.url+path, bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if s.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
		} else {
			req.Header.Set(headers[i], headers[i+1])
		}
	}
	resp, err := (&http.Client{Transport: s.h1, Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, raw
}

func waitGone(t testing.TB, pid int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for processAlive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("process %d still alive", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// processAlive: the pid exists and is not a zombie.
func processAlive(pid int) bool {
	data, err := readFile("/proc/" + itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(data, ')')
	return i > 0 && i+2 < len(data) && data[i+2] != 'Z'
}

// closeResponse closes the response side of a client stream, failing the
// test when that fails.
func closeResponse(t *testing.T, stream interface{ CloseResponse() error }) {
	t.Helper()
	if err := stream.CloseResponse(); err != nil {
		t.Errorf("close response: %v", err)
	}
}
