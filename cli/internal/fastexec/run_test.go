package fastexec

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"

	"connectrpc.com/connect"

	"github.com/arl-infra/arl/cli/internal/endpointcache"
	sidecarv1 "github.com/arl-infra/arl/proto/gen/arl/sidecar/v1"
	"github.com/arl-infra/arl/proto/gen/arl/sidecar/v1/sidecarv1connect"
)

// fakeSidecar is a sidecar with one token; runs counts the commands it ran.
type fakeSidecar struct {
	sidecarv1connect.UnimplementedSidecarServiceHandler
	token string
	runs  atomic.Int32
	// fail, when set, ends every stream with this error after one output.
	fail error
	// refuse, when set, fails every call with it before running anything.
	refuse error
}

func (f *fakeSidecar) ExecuteStream(_ context.Context, req *connect.Request[sidecarv1.ExecuteStreamRequest], s *connect.ServerStream[sidecarv1.ExecuteStreamResponse]) error {
	if req.Header().Get("Authorization") != "Bearer "+f.token {
		return connect.NewError(connect.CodeUnauthenticated, errors.New("missing or wrong token"))
	}
	if f.refuse != nil {
		return f.refuse
	}
	f.runs.Add(1)
	out := func(st sidecarv1.Stream, data string) error {
		return s.Send(&sidecarv1.ExecuteStreamResponse{Event: &sidecarv1.ExecuteStreamResponse_Output{
			Output: &sidecarv1.OutputChunk{Stream: st, Data: []byte(data)}}})
	}
	if err := out(sidecarv1.Stream_STREAM_STDOUT, req.Msg.WorkingDir+" "+req.Msg.Env["A"]+"\n"); err != nil {
		return err
	}
	if f.fail != nil {
		return f.fail
	}
	if err := out(sidecarv1.Stream_STREAM_STDERR, "err\n"); err != nil {
		return err
	}
	return s.Send(&sidecarv1.ExecuteStreamResponse{Event: &sidecarv1.ExecuteStreamResponse_End{
		End: &sidecarv1.ProcessEnded{ExitCode: int32(len(req.Msg.Command))}}})
}

// serve starts f over h2c and returns its address.
func serve(t *testing.T, f *fakeSidecar) (ip string, port int) {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle(sidecarv1connect.NewSidecarServiceHandler(f))
	srv := httptest.NewUnstartedServer(mux)
	srv.Config.Protocols = new(http.Protocols)
	srv.Config.Protocols.SetHTTP1(true)
	srv.Config.Protocols.SetUnencryptedHTTP2(true)
	srv.Start()
	t.Cleanup(srv.Close)
	host, p, err := net.SplitHostPort(srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	port, _ = strconv.Atoi(p)
	return host, port
}

// cacheAt stores an entry for sandbox sb pointing at ip:port with token.
func cacheAt(t *testing.T, ip string, port int, token string) endpointcache.Key {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", filepath.Join(dir, "cache"))
	t.Setenv(endpointcache.DisableEnv, "")
	t.Setenv("ARL_CONNECT", "")
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte("kind: Config\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KUBECONFIG", kubeconfig)
	k := endpointcache.Key{Sandbox: "sb"}
	if err := endpointcache.Store(k, endpointcache.Entry{Namespace: "default", Pod: "p", IP: ip, Port: port, Token: token}); err != nil {
		t.Fatal(err)
	}
	return k
}

var args = []string{"exec", "sb", "--cwd", "/w", "-e", "A=b", "--", "one", "two", "three"}

func TestRunFromTheCache(t *testing.T) {
	f := &fakeSidecar{token: "tok"}
	ip, port := serve(t, f)
	k := cacheAt(t, ip, port, "tok")
	var stdout, stderr bytes.Buffer
	code, handled := Run(t.Context(), args, &stdout, &stderr, nil)
	if !handled || code != 3 || stdout.String() != "/w b\n" || stderr.String() != "err\n" {
		t.Fatalf("handled %v code %d stdout %q stderr %q; want true, 3, \"/w b\", \"err\"", handled, code, stdout.String(), stderr.String())
	}
	if endpointcache.Load(k) == nil {
		t.Fatal("a working entry was dropped")
	}
	if _, handled := Run(t.Context(), []string{"exec", "other", "--", "x"}, &stdout, &stderr, nil); handled {
		t.Fatal("a sandbox without an entry was taken")
	}
}

func TestRunRefusedEntriesGoToTheFullCLI(t *testing.T) {
	cases := map[string]func(t *testing.T) endpointcache.Key{
		"another token (another pod took the IP)": func(t *testing.T) endpointcache.Key {
			ip, port := serve(t, &fakeSidecar{token: "new-pod"})
			return cacheAt(t, ip, port, "old-pod")
		},
		"nothing listening": func(t *testing.T) endpointcache.Key {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			port := l.Addr().(*net.TCPAddr).Port
			l.Close()
			return cacheAt(t, "127.0.0.1", port, "tok")
		},
		"another HTTP server (404)": func(t *testing.T) endpointcache.Key {
			srv := httptest.NewServer(http.NotFoundHandler())
			t.Cleanup(srv.Close)
			addr := srv.Listener.Addr().(*net.TCPAddr)
			return cacheAt(t, addr.IP.String(), addr.Port, "tok")
		},
	}
	for name, setup := range cases {
		t.Run(name, func(t *testing.T) {
			k := setup(t)
			var stdout, stderr bytes.Buffer
			if _, handled := Run(t.Context(), args, &stdout, &stderr, nil); handled {
				t.Fatalf("taken: stdout %q stderr %q", stdout.String(), stderr.String())
			}
			if stdout.Len()+stderr.Len() != 0 {
				t.Fatalf("printed before handing off: %q %q", stdout.String(), stderr.String())
			}
			if endpointcache.Load(k) != nil {
				t.Fatal("the refused entry was kept")
			}
		})
	}
}

func TestRunErrorsAfterTheCommandStartedAreNotRetried(t *testing.T) {
	f := &fakeSidecar{token: "tok", fail: connect.NewError(connect.CodeUnavailable, errors.New("pod going away"))}
	ip, port := serve(t, f)
	k := cacheAt(t, ip, port, "tok")
	var stdout, stderr bytes.Buffer
	code, handled := Run(t.Context(), args, &stdout, &stderr, nil)
	if !handled || code != 1 || !bytes.Contains(stderr.Bytes(), []byte("unreachable")) {
		t.Fatalf("handled %v code %d stderr %q; want the error, exit 1", handled, code, stderr.String())
	}
	if f.runs.Load() != 1 {
		t.Fatalf("ran %d times", f.runs.Load())
	}
	if endpointcache.Load(k) == nil {
		t.Fatal("the entry was dropped although the sidecar accepted it")
	}
}

// An error before any output that does not prove the command never started
// is shown (running it twice would be worse) and drops the entry, so the
// next invocation resolves afresh.
func TestRunSilentFailuresDropTheEntryWithoutRetry(t *testing.T) {
	cases := map[string]struct {
		setup func(t *testing.T) endpointcache.Key
		want  string
	}{
		"an internal error": {func(t *testing.T) endpointcache.Key {
			ip, port := serve(t, &fakeSidecar{token: "tok", refuse: connect.NewError(connect.CodeInternal, errors.New("boom"))})
			return cacheAt(t, ip, port, "tok")
		}, "boom"},
		"a server without HTTP/1.1": {func(t *testing.T) endpointcache.Key {
			srv := httptest.NewUnstartedServer(http.NotFoundHandler())
			srv.Config.Protocols = new(http.Protocols)
			srv.Config.Protocols.SetUnencryptedHTTP2(true)
			srv.Start()
			t.Cleanup(srv.Close)
			addr := srv.Listener.Addr().(*net.TCPAddr)
			return cacheAt(t, addr.IP.String(), addr.Port, "tok")
		}, "unreachable"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			k := c.setup(t)
			var stdout, stderr bytes.Buffer
			code, handled := Run(t.Context(), args, &stdout, &stderr, nil)
			if !handled || code != 1 || !bytes.Contains(stderr.Bytes(), []byte(c.want)) {
				t.Fatalf("handled %v code %d stderr %q; want %q, exit 1", handled, code, stderr.String(), c.want)
			}
			if endpointcache.Load(k) != nil {
				t.Fatal("an entry that got no answer for its command was kept")
			}
		})
	}
}
