package serve

import (
	"context"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"connectrpc.com/connect"

	sidecarv1 "github.com/arl-infra/arl/proto/gen/arl/sidecar/v1"
)

// escapes are commands that leave a sleep 300 behind, out of the reach of
// a process-group kill, and print its pid on the first stdout line. The
// python one forks, joins the sidecar's own process group and lets its
// parent exit, so the sleeper is reparented to the sidecar (the subreaper).
func escapes(sidecarPgrp int) map[string][]string {
	return map[string][]string{
		"setsid":      {"sh", "-c", "setsid sleep 300 & echo $!; wait"},
		"double fork": {"sh", "-c", `sh -c 'sleep 300 & echo $!' ; sleep 300`},
		"joins the sidecar's group": {"python3", "-c", `
import os, sys, time
r, w = os.pipe()
if os.fork() == 0:
    os.setpgid(0, ` + strconv.Itoa(sidecarPgrp) + `)
    if os.fork() == 0:
        os.write(w, (str(os.getpid()) + "\n").encode())
        time.sleep(300)
    os._exit(0)
os.wait()
sys.stdout.write(os.read(r, 64).decode()); sys.stdout.flush()
time.sleep(300)
`},
	}
}

// TestTimeoutAndResetKillEveryDescendant: a timeout ends the processes a
// command left behind however they escaped its group or tree, and so does
// Reset for background ones; none stays a zombie.
func TestTimeoutAndResetKillEveryDescendant(t *testing.T) {
	sc := startSidecar(t, Config{})
	c := sc.client(connect.WithGRPC())
	ctx := context.Background()
	for name, argv := range escapes(syscall.Getpgrp()) {
		t.Run("timeout/"+name, func(t *testing.T) {
			stream, err := c.ExecuteStream(ctx, connect.NewRequest(&sidecarv1.ExecuteStreamRequest{Command: argv, TimeoutSeconds: 5})) // room for python to start on a loaded machine
			if err != nil {
				t.Fatal(err)
			}
			defer stream.Close()
			left := 0
			var out strings.Builder
			for stream.Receive() {
				out.Write(stream.Msg().GetOutput().GetData())
				if left == 0 {
					if line, _, ok := strings.Cut(out.String(), "\n"); ok {
						left, _ = strconv.Atoi(line)
					}
				}
				if end := stream.Msg().GetEnd(); end != nil && !end.GetTimedOut() {
					t.Fatalf("not timed out: %v", end)
				}
			}
			if left <= 0 {
				t.Fatalf("no pid printed: %q %v", out.String(), stream.Err())
			}
			waitReaped(t, left)
		})
		t.Run("reset/"+name, func(t *testing.T) {
			resp, err := c.Execute(ctx, connect.NewRequest(&sidecarv1.ExecuteRequest{Command: argv, Background: true}))
			if err != nil {
				t.Fatal(err)
			}
			left := 0
			for deadline := time.Now().Add(10 * time.Second); left == 0 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
				got, err := c.GetProcess(ctx, connect.NewRequest(&sidecarv1.GetProcessRequest{Pid: resp.Msg.GetPid()}))
				if err != nil {
					t.Fatal(err)
				}
				if line, _, ok := strings.Cut(got.Msg.GetStdout(), "\n"); ok {
					left, _ = strconv.Atoi(line)
				}
			}
			if left <= 0 {
				t.Fatal("no pid printed")
			}
			if _, err := c.Reset(ctx, connect.NewRequest(&sidecarv1.ResetRequest{PreserveFiles: true})); err != nil {
				t.Fatal(err)
			}
			waitReaped(t, left)
			waitReaped(t, int(resp.Msg.GetPid()))
		})
	}
}

// waitReaped waits until pid is gone from /proc: neither running nor a zombie.
func waitReaped(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); os.IsNotExist(err) {
			return
		}
		if time.Now().After(deadline) {
			state := "running"
			if !processAlive(pid) {
				state = "a zombie"
			}
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("process %d is still %s", pid, state)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
