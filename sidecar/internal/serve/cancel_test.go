package serve

import (
	"context"
	"testing"
	"time"

	"connectrpc.com/connect"

	sidecarv1 "github.com/arl-infra/arl/proto/gen/arl/sidecar/v1"
)

// A caller that goes away ends its foreground process group.
func TestClientGoneKillsForegroundProcesses(t *testing.T) {
	sc := startSidecar(t, Config{})
	c := sc.client(connect.WithGRPC())

	ctx, cancel := context.WithCancel(context.Background())
	stream, err := c.ExecuteStream(ctx, connect.NewRequest(&sidecarv1.ExecuteStreamRequest{Command: []string{"sleep", "100"}}))
	if err != nil {
		t.Fatal(err)
	}
	if !stream.Receive() || stream.Msg().GetStart().GetPid() <= 0 {
		t.Fatalf("no start event: %v", stream.Err())
	}
	pid := int(stream.Msg().GetStart().GetPid())
	cancel()
	stream.Close()
	waitGone(t, pid)

	// The exit is recorded once the output is drained: poll briefly.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		list, err := c.ListProcesses(context.Background(), connect.NewRequest(&sidecarv1.ListProcessesRequest{}))
		if err == nil && len(list.Msg.GetProcesses()) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still running after the client left: %v %v", list, err)
		}
	}
	ctx, cancel = context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := c.Execute(ctx, connect.NewRequest(&sidecarv1.ExecuteRequest{Command: []string{"sleep", "100"}})); connect.CodeOf(err) != connect.CodeDeadlineExceeded {
		t.Fatalf("Execute past the caller's deadline: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		list, err := c.ListProcesses(context.Background(), connect.NewRequest(&sidecarv1.ListProcessesRequest{}))
		if err == nil && len(list.Msg.GetProcesses()) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("foreground Execute still running after its caller gave up: %v %v", list, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// timeout_seconds 0 (or above the ceiling) means the server's ceiling.
func TestForegroundTimeoutCeiling(t *testing.T) {
	sc := startSidecar(t, Config{MaxForegroundTimeout: time.Second})
	start := time.Now()
	resp, err := sc.client(connect.WithGRPC()).Execute(context.Background(), connect.NewRequest(&sidecarv1.ExecuteRequest{Command: []string{"sleep", "30"}, TimeoutSeconds: 60}))
	if err != nil || !resp.Msg.GetTimedOut() {
		t.Fatalf("Execute: %+v %v", resp, err)
	}
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Fatalf("ceiling not applied: %v", elapsed)
	}
}
