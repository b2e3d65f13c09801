package serve

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"

	sidecarv1 "github.com/arl-infra/arl/proto/gen/arl/sidecar/v1"
)

// A keyed Execute runs once: repeats (sequential and concurrent, over every
// protocol) get the first run's result, and the side effect happens once.
func TestKeyedExecuteRunsOnce(t *testing.T) {
	sc := startSidecar(t, Config{})
	ctx := context.Background()
	req := &sidecarv1.ExecuteRequest{
		Command:        []string{"sh", "-c", "echo run >> count; sleep 0.2; wc -l < count"},
		IdempotencyKey: "task-uid/1/0",
	}
	var wg sync.WaitGroup
	answers := make([]*sidecarv1.ExecuteResponse, 6)
	for i := range answers {
		c := sc.client(protocols[i%len(protocols)].opts...)
		wg.Go(func() {
			resp, err := c.Execute(ctx, connect.NewRequest(req))
			if err != nil {
				t.Errorf("call %d: %v", i, err)
				return
			}
			answers[i] = resp.Msg
		})
	}
	wg.Wait()
	// A repeat sent later asks for the time left: that is the same request.
	repeat := &sidecarv1.ExecuteRequest{Command: req.Command, IdempotencyKey: req.IdempotencyKey, TimeoutSeconds: 7}
	later, err := sc.client().Execute(ctx, connect.NewRequest(repeat))
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range append(answers, later.Msg) {
		if a == nil {
			continue
		}
		if strings.TrimSpace(a.GetStdout()) != "1" || a.GetPid() != answers[0].GetPid() || !a.GetDone() {
			t.Errorf("answer %d = %v, want the first run's (stdout 1, pid %d)", i, a, answers[0].GetPid())
		}
	}
	if b, _ := os.ReadFile(filepath.Join(sc.workspace, "count")); string(b) != "run\n" {
		t.Fatalf("the command ran %d times", strings.Count(string(b), "run"))
	}
	// Another key runs again.
	other := &sidecarv1.ExecuteRequest{Command: req.Command, IdempotencyKey: "task-uid/2/0"}
	resp, err := sc.client().Execute(ctx, connect.NewRequest(other))
	if err != nil || strings.TrimSpace(resp.Msg.GetStdout()) != "2" {
		t.Fatalf("a new key: %v %v", resp, err)
	}
}

// The first call of a key runs to its end when its caller goes away, and a
// repeat (the operator after a restart) gets its result.
func TestKeyedExecuteOutlivesItsCaller(t *testing.T) {
	sc := startSidecar(t, Config{})
	req := &sidecarv1.ExecuteRequest{
		Command:        []string{"sh", "-c", "sleep 0.5; echo done > marker; echo finished"},
		IdempotencyKey: "k-outlive",
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := sc.client(connect.WithGRPC()).Execute(ctx, connect.NewRequest(req)); connect.CodeOf(err) != connect.CodeDeadlineExceeded {
		t.Fatalf("first call past its deadline: %v", err)
	}
	resp, err := sc.client(connect.WithGRPC()).Execute(context.Background(), connect.NewRequest(req))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Msg.GetStdout() != "finished\n" || resp.Msg.GetExitCode() != 0 {
		t.Fatalf("repeat = %v", resp.Msg)
	}
	if b, _ := os.ReadFile(filepath.Join(sc.workspace, "marker")); string(b) != "done\n" {
		t.Fatalf("marker = %q", b)
	}
}

// A key reused for another request is refused; errors are remembered too.
func TestKeyReusedOrFailedCall(t *testing.T) {
	sc := startSidecar(t, Config{})
	c := sc.client()
	ctx := context.Background()
	first := &sidecarv1.ExecuteRequest{Command: []string{"true"}, IdempotencyKey: "k-reuse"}
	if _, err := c.Execute(ctx, connect.NewRequest(first)); err != nil {
		t.Fatal(err)
	}
	changed := &sidecarv1.ExecuteRequest{Command: []string{"false"}, IdempotencyKey: "k-reuse"}
	_, err := c.Execute(ctx, connect.NewRequest(changed))
	if connect.CodeOf(err) != connect.CodeInvalidArgument || !strings.Contains(err.Error(), "different request") {
		t.Fatalf("reused key: %v", err)
	}
	bad := &sidecarv1.WriteFilesRequest{Files: []*sidecarv1.File{{Path: "/etc/passwd", Content: []byte("x")}}, IdempotencyKey: "k-bad"}
	for range 2 {
		if _, err := c.WriteFiles(ctx, connect.NewRequest(bad)); connect.CodeOf(err) != connect.CodePermissionDenied && connect.CodeOf(err) != connect.CodeInvalidArgument {
			t.Fatalf("write outside the workspace: %v", err)
		}
	}
}

// A keyed WriteFiles writes once: a repeat does not undo a later change.
func TestKeyedWriteFilesWritesOnce(t *testing.T) {
	sc := startSidecar(t, Config{})
	c := sc.client()
	ctx := context.Background()
	path := filepath.Join(sc.workspace, "app.py")
	req := &sidecarv1.WriteFilesRequest{Files: []*sidecarv1.File{{Path: path, Content: []byte("v1")}}, IdempotencyKey: "task/1/0"}
	if _, err := c.WriteFiles(ctx, connect.NewRequest(req)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("changed by step 2"), 0o644); err != nil {
		t.Fatal(err)
	}
	resp, err := c.WriteFiles(ctx, connect.NewRequest(req))
	if err != nil || len(resp.Msg.GetFiles()) != 1 {
		t.Fatalf("repeat: %v %v", resp, err)
	}
	if b, _ := os.ReadFile(path); string(b) != "changed by step 2" {
		t.Fatalf("the repeat wrote again: %q", b)
	}
}

// Past the retention the first call still gets its own result, and a
// repeat is refused (ALREADY_EXISTS) rather than run again.
func TestKeyPastItsRetentionIsRefusedNotRunAgain(t *testing.T) {
	sc := startSidecar(t, Config{IdempotencyRetention: time.Nanosecond})
	c := sc.client(connect.WithGRPC())
	ctx := context.Background()
	req := &sidecarv1.ExecuteRequest{Command: []string{"sh", "-c", "echo run >> count; echo ok"}, IdempotencyKey: "k-old"}
	first, err := c.Execute(ctx, connect.NewRequest(req))
	if err != nil || first.Msg.GetStdout() != "ok\n" {
		t.Fatalf("first call: %v %v", first, err)
	}
	_, err = c.Execute(ctx, connect.NewRequest(req))
	if connect.CodeOf(err) != connect.CodeAlreadyExists || !strings.Contains(err.Error(), "no longer kept") {
		t.Fatalf("repeat past the retention: %v, want ALREADY_EXISTS", err)
	}
	if b, _ := os.ReadFile(filepath.Join(sc.workspace, "count")); string(b) != "run\n" {
		t.Fatalf("the command ran %d times", strings.Count(string(b), "run"))
	}
}
