package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"connectrpc.com/connect"

	sidecarv1 "github.com/arl-infra/arl/proto/gen/arl/sidecar/v1"
	"github.com/arl-infra/arl/sidecar/internal/process"
	"github.com/arl-infra/arl/sidecar/internal/server"
	"github.com/arl-infra/arl/sidecar/internal/service"
)

// onlyHarmless lets the fuzzer drive the whole decoding path (transcoder,
// codecs, handler) and really run echo/true, without ever running whatever
// command a mutation invents.
type onlyHarmless struct{ service.Processes }

func (o onlyHarmless) Execute(ctx context.Context, req *connect.Request[sidecarv1.ExecuteRequest]) (*connect.Response[sidecarv1.ExecuteResponse], error) {
	cmd := req.Msg.GetCommand()
	if len(cmd) > 0 && cmd[0] != "echo" && cmd[0] != "true" || len(req.Msg.GetEnv()) > 0 || req.Msg.GetBackground() {
		return nil, connect.NewError(connect.CodeInvalidArgument, errors.New("fuzz: only foreground echo/true run"))
	}
	req.Msg.TimeoutSeconds = 2
	return o.Processes.Execute(ctx, req)
}

func FuzzExecuteJSON(f *testing.F) {
	for _, seed := range []string{
		`{"command": ["echo", "hi"], "working_dir": "", "env": {}, "background": false, "timeout_seconds": 0}`,
		`{"command": ["true"], "timeout_seconds": "3"}`,
		`{"command": ["echo", "\u00e9\ud83d\ude00"], "stdin": "aGVsbG8="}`,
		`{"command": [`, `{"command": "x"}`, `[]`, `null`, `{}`, ``, `{"command": [1, 2]}`,
		`{"commandd": ["true"]}`, `{"timeout_seconds": 1e40}`, `{"stdin": "!!"}`, `{"env": {"A": 1}}`,
	} {
		f.Add([]byte(seed), true)
		f.Add([]byte(seed), false)
	}
	mgr, err := process.NewManager(process.Config{WorkspaceRoot: f.TempDir(), MaxOutputBytes: 4096})
	if err != nil {
		f.Fatal(err)
	}
	defer mgr.Close()
	handler, err := server.NewHandler(server.Config{
		Service:      service.New(onlyHarmless{service.NewLocal(mgr, 0)}, service.Options{}),
		MaxBodyBytes: 1 << 16,
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte, rest bool) {
		path := "/arl.sidecar.v1.SidecarService/Execute"
		if rest {
			path = "/execute"
		}
		req := httptest.NewRequest("POST", path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if !rest {
			req.Header.Set("Connect-Protocol-Version", "1")
		}
		rec := httptest.NewRecorder()
		served := make(chan struct{})
		go func() {
			defer close(served)
			handler.ServeHTTP(rec, req)
		}()
		select {
		case <-served:
		case <-time.After(10 * time.Second):
			t.Fatalf("body %q: no answer in 10s", body)
		}
		if rec.Code != http.StatusOK && (rec.Code < 400 || rec.Code >= 500) {
			t.Fatalf("body %q: status %d (%s)", body, rec.Code, rec.Body.String())
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("body %q: answer is not JSON: %q", body, rec.Body.String())
		}
	})
}
