package serve

import (
	"context"
	"strings"
	"testing"

	"connectrpc.com/connect"

	sidecarv1 "github.com/arl-infra/arl/proto/gen/arl/sidecar/v1"
)

// The manual's endpoints, with its JSON: snake_case names, zero values
// present, pid and exit_code as JSON numbers.
func TestRESTEndpointsSpeakTheManualsJSON(t *testing.T) {
	sc := startSidecar(t, Config{})
	status, body := sc.rest(t, "POST", "/execute", `{
    "command": ["sleep", "100"],
    "working_dir": "`+sc.workspace+`",
    "background": true,
    "env": {
      "PYTHONUNBUFFERED": "1"
    }
  }`)
	if status != 200 {
		t.Fatalf("POST /execute: %d %v", status, body)
	}
	for key, want := range map[string]any{"stdout": "", "stderr": "", "exit_code": float64(0), "done": false, "timed_out": false} {
		if got, ok := body[key]; !ok || got != want {
			t.Fatalf("POST /execute: %q = %#v (present %v), want %#v; body %v", key, got, ok, want, body)
		}
	}
	pid, ok := body["pid"].(float64)
	if !ok || pid <= 0 {
		t.Fatalf("pid %#v is not a positive JSON number", body["pid"])
	}

	status, body = sc.rest(t, "POST", "/execute", `{"command": ["pgrep", "-f", "sleep 100"]}`)
	if status != 200 || !strings.Contains(body["stdout"].(string), itoa(int(pid))) || body["done"] != true {
		t.Fatalf("pgrep: %d %v", status, body)
	}

	status, body = sc.rest(t, "POST", "/signal", `{"pid": `+itoa(int(pid))+`, "signal": "SIGTERM"}`)
	if status != 200 || body["success"] != true || body["message"] != "signal SIGTERM sent to process "+itoa(int(pid)) {
		t.Fatalf("POST /signal: %d %v", status, body)
	}
	waitGone(t, int(pid))

	status, body = sc.rest(t, "POST", "/reset", `{"preserve_files": true}`)
	if status != 200 || body["success"] != true {
		t.Fatalf("POST /reset: %d %v", status, body)
	}
	status, body = sc.rest(t, "GET", "/health?probe=kubelet", "")
	if status != 200 || body["status"] != "ok" {
		t.Fatalf("GET /health: %d %v", status, body)
	}
	// curl -d without -H "Content-Type: application/json" also works.
	status, body = sc.rest(t, "POST", "/execute", `{"command": ["echo", "plain curl"]}`, "Content-Type", "application/x-www-form-urlencoded")
	if status != 200 || body["stdout"] != "plain curl\n" {
		t.Fatalf("form-encoded POST /execute: %d %v", status, body)
	}
	status, body = sc.rest(t, "POST", "/execute", `{"command": ["echo", "xml?"]}`, "Content-Type", "application/xml")
	if status != 200 || body["stdout"] != "xml?\n" {
		t.Fatalf("POST /execute with another content type: %d %v", status, body)
	}
	// Connect JSON on the RPC path has the same shape.
	status, body = sc.rest(t, "POST", "/arl.sidecar.v1.SidecarService/Execute", `{"command": ["true"]}`, "Connect-Protocol-Version", "1")
	if status != 200 || body["exit_code"] != float64(0) || body["stdout"] != "" {
		t.Fatalf("Connect JSON Execute: %d %v", status, body)
	}
}

func TestBadInputGivesClientErrors(t *testing.T) {
	sc := startSidecar(t, Config{MaxBodyBytes: 4096})
	cases := []struct {
		name, method, path, body string
		status                   int
	}{
		{"malformed JSON", "POST", "/execute", `{"command": [`, 400},
		{"wrong type", "POST", "/execute", `{"command": "ls"}`, 400},
		{"empty command", "POST", "/execute", `{"command": []}`, 400},
		{"empty argv0", "POST", "/execute", `{"command": [""]}`, 400},
		{"negative timeout", "POST", "/execute", `{"command": ["true"], "timeout_seconds": -5}`, 400},
		{"missing working dir", "POST", "/execute", `{"command": ["true"], "working_dir": "/no/such/dir"}`, 400},
		{"unknown signal", "POST", "/signal", `{"pid": 123, "signal": "SIGSTOP"}`, 400},
		{"no pid", "POST", "/signal", `{"signal": "SIGTERM"}`, 400},
		{"foreign pid", "POST", "/signal", `{"pid": 1, "signal": "SIGTERM"}`, 403},
		{"missing pid", "POST", "/signal", `{"pid": 2147483000, "signal": "SIGTERM"}`, 404},
		{"unknown path", "POST", "/exec", `{"command": ["true"]}`, 404},
		{"wrong method", "GET", "/execute", ``, 405},
		{"wrong method on health", "POST", "/health", `{}`, 405},
		{"oversized body", "POST", "/execute", `{"command": ["echo", "` + strings.Repeat("a", 8000) + `"]}`, 429},
		{"oversized Connect body", "POST", "/arl.sidecar.v1.SidecarService/Execute", `{"command": ["echo", "` + strings.Repeat("a", 8000) + `"]}`, 429},
	}
	for _, c := range cases {
		var headers []string
		if strings.HasPrefix(c.path, "/arl.") {
			headers = []string{"Connect-Protocol-Version", "1"}
		}
		status, body := sc.rest(t, c.method, c.path, c.body, headers...)
		if status != c.status {
			t.Errorf("%s: status %d, want %d; body %v", c.name, status, c.status, body)
		}
		if body["message"] == nil || body["message"] == "" {
			t.Errorf("%s: error body has no message: %v", c.name, body)
		}
	}
	// And over gRPC: precise codes.
	c := sc.client(connect.WithGRPC())
	ctx := context.Background()
	for _, bad := range []struct {
		call func() error
		code connect.Code
	}{
		{func() error { _, err := c.Execute(ctx, connect.NewRequest(&sidecarv1.ExecuteRequest{})); return err }, connect.CodeInvalidArgument},
		{func() error {
			_, err := c.Signal(ctx, connect.NewRequest(&sidecarv1.SignalRequest{Pid: 5, Signal: "BOGUS"}))
			return err
		}, connect.CodeInvalidArgument},
		{func() error {
			_, err := c.ReadFile(ctx, connect.NewRequest(&sidecarv1.ReadFileRequest{Path: "/etc/passwd"}))
			return err
		}, connect.CodePermissionDenied},
		{func() error {
			_, err := c.WriteFiles(ctx, connect.NewRequest(&sidecarv1.WriteFilesRequest{Files: []*sidecarv1.File{{Path: sc.workspace + "/big", Content: make([]byte, 10000)}}}))
			return err
		}, connect.CodeResourceExhausted},
	} {
		if err := bad.call(); connect.CodeOf(err) != bad.code {
			t.Errorf("got %v, want %v", err, bad.code)
		}
	}
}
