//go:build e2e

package e2e

import (
	"encoding/json"
	"net"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// mcpStdio starts `kubectl arl mcp` as an MCP client would (a subprocess on
// stdio) and connects the Go SDK's client to it.
func mcpStdio(t *testing.T, args ...string) (*mcp.ClientSession, *exec.Cmd) {
	t.Helper()
	cmd := exec.Command(plugin, append([]string{"mcp", "--pool", pool}, args...)...)
	client := mcp.NewClient(&mcp.Implementation{Name: "cli-e2e", Version: "v0"}, nil)
	cs, err := client.Connect(t.Context(), &mcp.CommandTransport{Command: cmd}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return cs, cmd
}

// call invokes a tool, fails on a tool error, and decodes its structured result.
func call[T any](t *testing.T, cs *mcp.ClientSession, tool string, args map[string]any) T {
	t.Helper()
	res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: tool, Arguments: args})
	if err != nil {
		t.Fatalf("%s: %v", tool, err)
	}
	if res.IsError {
		t.Fatalf("%s(%v): tool error: %s", tool, args, text(res))
	}
	var out T
	data, _ := json.Marshal(res.StructuredContent)
	must(t, json.Unmarshal(data, &out))
	return out
}

func callError(t *testing.T, cs *mcp.ClientSession, tool string, args map[string]any) string {
	t.Helper()
	res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: tool, Arguments: args})
	if err != nil {
		t.Fatalf("%s: protocol error %v, want a tool error", tool, err)
	}
	if !res.IsError {
		t.Fatalf("%s(%v) succeeded, want a tool error", tool, args)
	}
	return text(res)
}

func text(res *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

type sandboxInfo struct {
	Name  string `json:"name"`
	Phase string `json:"phase"`
	Owned bool   `json:"created_by_this_server"`
}

// TestMCPQuickStart does the manual's quick start through the tools: create
// a sandbox, write hello.py, run it, see "Hello from ARL!", delete it; then
// the other tools, and the cleanup of a sandbox left behind when the server
// stops.
func TestMCPQuickStart(t *testing.T) {
	cs, cmd := mcpStdio(t)
	tools, err := cs.ListTools(t.Context(), nil)
	if err != nil || len(tools.Tools) < 8 {
		t.Fatalf("tools/list: %d tools, %v", len(tools.Tools), err)
	}

	sb := call[sandboxInfo](t, cs, "create_sandbox", map[string]any{"ttl": 600})
	if sb.Phase != "Ready" || !sb.Owned || !strings.HasPrefix(sb.Name, "mcp-") {
		t.Fatalf("create_sandbox: %+v", sb)
	}
	call[map[string]any](t, cs, "write_file", map[string]any{"sandbox": sb.Name, "path": "hello.py",
		"content": "print(\"Hello from ARL!\")\nprint(\"Task executed successfully\")\n"})
	run := call[struct {
		ExitCode int32  `json:"exit_code"`
		Stdout   string `json:"stdout"`
	}](t, cs, "run_command", map[string]any{"sandbox": sb.Name, "command": "python /workspace/hello.py"})
	if run.ExitCode != 0 || !strings.Contains(run.Stdout, "Hello from ARL!") {
		t.Fatalf("run_command: %+v", run)
	}
	read := call[struct {
		Content string `json:"content"`
	}](t, cs, "read_file", map[string]any{"sandbox": sb.Name, "path": "/workspace/hello.py"})
	if !strings.HasPrefix(read.Content, "print(\"Hello from ARL!\")") {
		t.Fatalf("read_file: %q", read.Content)
	}
	files := call[struct {
		Entries []struct {
			Path string `json:"path"`
			Type string `json:"type"`
		} `json:"entries"`
	}](t, cs, "list_files", map[string]any{"sandbox": sb.Name})
	if len(files.Entries) == 0 || files.Entries[0].Path != "/workspace/hello.py" || files.Entries[0].Type != "file" {
		t.Fatalf("list_files: %+v", files.Entries)
	}
	steps := call[struct {
		State  string `json:"state"`
		Stdout string `json:"stdout"`
	}](t, cs, "run_steps", map[string]any{"sandbox": sb.Name, "steps": []any{
		map[string]any{"name": "write", "type": "FilePatch", "path": "/workspace/t.py", "content": "print(6*7)\n"},
		map[string]any{"name": "run", "type": "Command", "command": []string{"python", "/workspace/t.py"}},
	}})
	if steps.State != "Succeeded" || steps.Stdout != "42\n" {
		t.Fatalf("run_steps: %+v", steps)
	}
	bg := call[struct {
		Pid     int32 `json:"pid"`
		Running bool  `json:"running"`
	}](t, cs, "run_command", map[string]any{"sandbox": sb.Name, "command": "sleep 300", "background": true})
	if bg.Pid <= 0 || !bg.Running {
		t.Fatalf("background run_command: %+v", bg)
	}
	call[map[string]any](t, cs, "signal_process", map[string]any{"sandbox": sb.Name, "pid": bg.Pid, "signal": "SIGKILL"})
	exit := call[struct {
		ExitCode int32 `json:"exit_code"`
	}](t, cs, "run_command", map[string]any{"sandbox": sb.Name, "command": "exit 9"})
	if exit.ExitCode != 9 {
		t.Fatalf("exit code: %d", exit.ExitCode)
	}

	// Bad input: tool errors that say what to do.
	if msg := callError(t, cs, "write_file", map[string]any{"sandbox": sb.Name, "path": "/etc/evil", "content": "x"}); !strings.Contains(msg, "outside the workspace") {
		t.Errorf("path outside the workspace: %q", msg)
	}
	if msg := callError(t, cs, "run_command", map[string]any{"sandbox": "no-such", "command": "true"}); !strings.Contains(msg, "list_sandboxes") {
		t.Errorf("missing sandbox: %q", msg)
	}
	if msg := callError(t, cs, "read_file", map[string]any{"sandbox": sb.Name, "path": "missing.txt"}); !strings.Contains(msg, "does not exist") {
		t.Errorf("missing file: %q", msg)
	}
	// Safety: a sandbox made outside the server is off limits.
	foreign := newSandbox(t, "cli-foreign")
	if msg := callError(t, cs, "run_command", map[string]any{"sandbox": foreign, "command": "true"}); !strings.Contains(msg, "not created by this MCP server") {
		t.Errorf("foreign sandbox: %q", msg)
	}
	list := call[struct {
		Sandboxes []sandboxInfo `json:"sandboxes"`
	}](t, cs, "list_sandboxes", nil)
	names := []string{}
	for _, s := range list.Sandboxes {
		names = append(names, s.Name)
	}
	if !strings.Contains(strings.Join(names, " "), sb.Name) || strings.Contains(strings.Join(names, " "), foreign) {
		t.Errorf("list_sandboxes: %v (want %s, not %s)", names, sb.Name, foreign)
	}
	call[map[string]any](t, cs, "delete_sandbox", map[string]any{"sandbox": sb.Name})
	waitGone(t, sb.Name)

	// A sandbox the client forgets is deleted when the server stops.
	left := call[sandboxInfo](t, cs, "create_sandbox", map[string]any{"name": "cli-mcp-left"})
	must(t, cs.Close())
	waitExit(t, cmd)
	waitGone(t, left.Name)
}

// TestMCPStreamableHTTP serves the tools over streamable HTTP and stops on SIGTERM.
func TestMCPStreamableHTTP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(plugin, "mcp", "--pool", pool, "--http", addr)
	must(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	client := mcp.NewClient(&mcp.Implementation{Name: "cli-e2e-http", Version: "v0"}, nil)
	var cs *mcp.ClientSession
	deadline := time.Now().Add(30 * time.Second)
	for {
		cs, err = client.Connect(t.Context(), &mcp.StreamableClientTransport{Endpoint: "http://" + addr + "/mcp"}, nil)
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	must(t, err)
	sb := call[sandboxInfo](t, cs, "create_sandbox", map[string]any{"name": "cli-mcp-http"})
	out := call[struct {
		Stdout string `json:"stdout"`
	}](t, cs, "run_command", map[string]any{"sandbox": sb.Name, "command": "echo over http"})
	if out.Stdout != "over http\n" {
		t.Fatalf("run_command over HTTP: %q", out.Stdout)
	}
	_ = cs.Close()
	must(t, cmd.Process.Signal(syscall.SIGTERM))
	waitExit(t, cmd)
	waitGone(t, sb.Name)
}

func waitExit(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		t.Logf("the MCP server exited: %v", err) // SIGTERM's exit status; waitGone checks its clean-up
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("the MCP server did not exit")
	}
}

func waitGone(t *testing.T, name string) {
	t.Helper()
	waitUntil(t, func() bool {
		r := kc("get", "sandbox", name, "--ignore-not-found", "-o", "name").exec(t)
		return r.code == 0 && strings.TrimSpace(r.stdout) == ""
	})
}
