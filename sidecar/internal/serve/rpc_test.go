package serve

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"connectrpc.com/grpchealth"
	"connectrpc.com/grpcreflect"

	sidecarv1 "github.com/arl-infra/arl/proto/gen/arl/sidecar/v1"
	"github.com/arl-infra/arl/proto/gen/arl/sidecar/v1/sidecarv1connect"
)

func TestEveryRPCOverEveryProtocol(t *testing.T) {
	sc := startSidecar(t, Config{Token: "s3cret"})
	for _, proto := range protocols {
		t.Run(proto.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			c := sc.client(proto.opts...)
			testExecute(ctx, t, c)
			testBackgroundLifecycle(ctx, t, c)
			testExecuteStream(ctx, t, c)
			if proto.name != "grpc-web" { // bidi streams need HTTP/2 and are not in gRPC-Web
				testInteract(ctx, t, c, false)
				testInteract(ctx, t, c, true)
			}
			testFiles(ctx, t, c, sc.workspace)
			health, err := c.Health(ctx, connect.NewRequest(&sidecarv1.HealthRequest{}))
			if err != nil || health.Msg.GetStatus() != "ok" {
				t.Fatalf("Health: %v %v", health, err)
			}
		})
	}
}

func testExecute(ctx context.Context, t *testing.T, c sidecarv1connect.SidecarServiceClient) {
	t.Helper()
	resp, err := c.Execute(ctx, connect.NewRequest(&sidecarv1.ExecuteRequest{
		Command: []string{"sh", "-c", "echo \"$GREETING\"; pwd; echo oops >&2; exit 4"},
		Env:     map[string]string{"GREETING": "hello"},
	}))
	if err != nil {
		t.Fatalf("Execute: %v", err)
	}
	m := resp.Msg
	if m.GetStdout() == "" || !strings.HasPrefix(m.GetStdout(), "hello\n") || m.GetStderr() != "oops\n" || m.GetExitCode() != 4 || !m.GetDone() || m.GetPid() <= 0 {
		t.Fatalf("Execute response %+v", m)
	}
	resp, err = c.Execute(ctx, connect.NewRequest(&sidecarv1.ExecuteRequest{Command: []string{"sleep", "10"}, TimeoutSeconds: 1}))
	if err != nil || !resp.Msg.GetTimedOut() || resp.Msg.GetSignal() != "SIGKILL" {
		t.Fatalf("Execute with timeout: %+v %v", resp.Msg, err)
	}
	resp, err = c.Execute(ctx, connect.NewRequest(&sidecarv1.ExecuteRequest{Command: []string{"cat"}, Stdin: []byte("piped")}))
	if err != nil || resp.Msg.GetStdout() != "piped" {
		t.Fatalf("Execute with stdin: %+v %v", resp.Msg, err)
	}
	resp, err = c.Execute(ctx, connect.NewRequest(&sidecarv1.ExecuteRequest{Command: []string{"no-such-binary-arl"}}))
	if err != nil || resp.Msg.GetExitCode() != 127 || !strings.Contains(resp.Msg.GetStderr(), "command not found") {
		t.Fatalf("Execute missing command: %+v %v", resp.Msg, err)
	}
}

func testBackgroundLifecycle(ctx context.Context, t *testing.T, c sidecarv1connect.SidecarServiceClient) {
	t.Helper()
	started, err := c.Execute(ctx, connect.NewRequest(&sidecarv1.ExecuteRequest{
		Command:    []string{"sh", "-c", "echo listening; exec sleep 100"},
		Background: true,
	}))
	if err != nil || started.Msg.GetDone() || started.Msg.GetPid() <= 0 {
		t.Fatalf("background Execute: %+v %v", started, err)
	}
	pid := started.Msg.GetPid()
	var got *connect.Response[sidecarv1.GetProcessResponse]
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		got, err = c.GetProcess(ctx, connect.NewRequest(&sidecarv1.GetProcessRequest{Pid: pid}))
		if err != nil {
			t.Fatalf("GetProcess: %v", err)
		}
		if got.Msg.GetStdout() == "listening\n" {
			break
		}
	}
	if got.Msg.GetStdout() != "listening\n" || got.Msg.GetProcess().GetDone() || !got.Msg.GetProcess().GetBackground() {
		t.Fatalf("GetProcess: %+v", got.Msg)
	}
	list, err := c.ListProcesses(ctx, connect.NewRequest(&sidecarv1.ListProcessesRequest{}))
	if err != nil || !listed(list.Msg, pid) {
		t.Fatalf("ListProcesses: %+v %v", list, err)
	}
	sig, err := c.Signal(ctx, connect.NewRequest(&sidecarv1.SignalRequest{Pid: pid, Signal: "TERM"}))
	if err != nil || !sig.Msg.GetSuccess() || sig.Msg.GetMessage() != "signal SIGTERM sent to process "+itoa(int(pid)) {
		t.Fatalf("Signal: %+v %v", sig, err)
	}
	waitGone(t, int(pid))
	if _, err := c.Signal(ctx, connect.NewRequest(&sidecarv1.SignalRequest{Pid: int32(os.Getppid()), Signal: "SIGKILL"})); connect.CodeOf(err) != connect.CodePermissionDenied {
		t.Fatalf("Signal to a foreign pid: %v, want PermissionDenied", err)
	}
	if _, err := c.GetProcess(ctx, connect.NewRequest(&sidecarv1.GetProcessRequest{Pid: 1 << 30})); connect.CodeOf(err) != connect.CodeNotFound {
		t.Fatalf("GetProcess unknown pid: %v", err)
	}
	if _, err := c.Execute(ctx, connect.NewRequest(&sidecarv1.ExecuteRequest{Command: []string{"sleep", "100"}, Background: true})); err != nil {
		t.Fatal(err)
	}
	reset, err := c.Reset(ctx, connect.NewRequest(&sidecarv1.ResetRequest{PreserveFiles: true}))
	if err != nil || !reset.Msg.GetSuccess() || reset.Msg.GetProcessesKilled() < 1 {
		t.Fatalf("Reset: %+v %v", reset, err)
	}
	list, err = c.ListProcesses(ctx, connect.NewRequest(&sidecarv1.ListProcessesRequest{}))
	if err != nil || len(list.Msg.GetProcesses()) != 0 {
		t.Fatalf("after reset: %+v %v", list, err)
	}
}

func listed(l *sidecarv1.ListProcessesResponse, pid int32) bool {
	for _, p := range l.GetProcesses() {
		if p.GetPid() == pid {
			return true
		}
	}
	return false
}

func testExecuteStream(ctx context.Context, t *testing.T, c sidecarv1connect.SidecarServiceClient) {
	t.Helper()
	stream, err := c.ExecuteStream(ctx, connect.NewRequest(&sidecarv1.ExecuteStreamRequest{
		Command: []string{"sh", "-c", "echo one; sleep 1; echo two >&2; exit 7"},
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()
	var events []string
	var firstChunkAt, start time.Time
	var stdout, stderr bytes.Buffer
	start = time.Now()
	for stream.Receive() {
		switch ev := stream.Msg().GetEvent().(type) {
		case *sidecarv1.ExecuteStreamResponse_Start:
			if ev.Start.GetPid() <= 0 {
				t.Fatalf("start pid %d", ev.Start.GetPid())
			}
			events = append(events, "start")
		case *sidecarv1.ExecuteStreamResponse_Output:
			if firstChunkAt.IsZero() {
				firstChunkAt = time.Now()
			}
			if ev.Output.GetStream() == sidecarv1.Stream_STREAM_STDERR {
				stderr.Write(ev.Output.GetData())
			} else {
				stdout.Write(ev.Output.GetData())
			}
			events = append(events, "output")
		case *sidecarv1.ExecuteStreamResponse_End:
			if ev.End.GetExitCode() != 7 {
				t.Fatalf("end exit %d", ev.End.GetExitCode())
			}
			events = append(events, "end")
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatalf("stream: %v", err)
	}
	if stdout.String() != "one\n" || stderr.String() != "two\n" || events[0] != "start" || events[len(events)-1] != "end" {
		t.Fatalf("events %v stdout %q stderr %q", events, stdout.String(), stderr.String())
	}
	if firstChunkAt.Sub(start) > 800*time.Millisecond {
		t.Fatalf("first chunk came after %v: output is not streamed as it comes", firstChunkAt.Sub(start))
	}
}

func testInteract(ctx context.Context, t *testing.T, c sidecarv1connect.SidecarServiceClient, pty bool) {
	t.Helper()
	stream := c.Interact(ctx)
	defer closeResponse(t, stream)
	start := &sidecarv1.InteractStart{Command: []string{"sh", "-c", "read line; echo got:$line; stty size 2>/dev/null || echo nopty; cat"}, Pty: pty}
	if pty {
		start.Size = &sidecarv1.WindowSize{Rows: 24, Cols: 80}
	}
	must(t, stream.Send(&sidecarv1.InteractRequest{Event: &sidecarv1.InteractRequest_Start{Start: start}}))
	if pty {
		must(t, stream.Send(&sidecarv1.InteractRequest{Event: &sidecarv1.InteractRequest_Resize{Resize: &sidecarv1.WindowSize{Rows: 33, Cols: 99}}}))
	}
	must(t, stream.Send(&sidecarv1.InteractRequest{Event: &sidecarv1.InteractRequest_Stdin{Stdin: []byte("hello\n")}}))
	must(t, stream.Send(&sidecarv1.InteractRequest{Event: &sidecarv1.InteractRequest_Eof{Eof: true}}))
	var out bytes.Buffer
	var end *sidecarv1.ProcessEnded
	for end == nil {
		msg, err := stream.Receive()
		if err != nil {
			t.Fatalf("Interact (pty=%v) receive: %v; output so far %q", pty, err, out.String())
		}
		switch ev := msg.GetEvent().(type) {
		case *sidecarv1.InteractResponse_Output:
			out.Write(ev.Output.GetData())
		case *sidecarv1.InteractResponse_End:
			end = ev.End
		}
	}
	want := "got:hello"
	if pty {
		want = "33 99"
	} else if !strings.Contains(out.String(), "nopty") {
		t.Fatalf("Interact without pty has a terminal: %q", out.String())
	}
	if !strings.Contains(out.String(), "got:hello") || !strings.Contains(out.String(), want) || end.GetExitCode() != 0 {
		t.Fatalf("Interact (pty=%v): output %q end %+v", pty, out.String(), end)
	}
	_ = stream.CloseRequest()
}

func testFiles(ctx context.Context, t *testing.T, c sidecarv1connect.SidecarServiceClient, workspace string) {
	t.Helper()
	path := filepath.Join(workspace, "dir/sub/hello.py")
	wrote, err := c.WriteFiles(ctx, connect.NewRequest(&sidecarv1.WriteFilesRequest{Files: []*sidecarv1.File{
		{Path: path, Content: []byte("print('hi')\n")},
		{Path: filepath.Join(workspace, "run.sh"), Content: []byte("#!/bin/sh\necho ran\n"), Mode: 0o755},
	}}))
	if err != nil || len(wrote.Msg.GetFiles()) != 2 || wrote.Msg.GetFiles()[0].GetSize() != 12 {
		t.Fatalf("WriteFiles: %+v %v", wrote, err)
	}
	read, err := c.ReadFile(ctx, connect.NewRequest(&sidecarv1.ReadFileRequest{Path: path}))
	if err != nil || string(read.Msg.GetContent()) != "print('hi')\n" || read.Msg.GetMode() != 0o644 {
		t.Fatalf("ReadFile: %+v %v", read, err)
	}
	ran, err := c.Execute(ctx, connect.NewRequest(&sidecarv1.ExecuteRequest{Command: []string{"./run.sh"}}))
	if err != nil || ran.Msg.GetStdout() != "ran\n" {
		t.Fatalf("run written script: %+v %v", ran, err)
	}
	for _, bad := range []struct {
		path string
		code connect.Code
	}{
		{"relative/x", connect.CodeInvalidArgument},
		{workspace + "/../x", connect.CodeInvalidArgument},
		{"/etc/arl-should-not-exist", connect.CodePermissionDenied},
	} {
		_, err := c.WriteFiles(ctx, connect.NewRequest(&sidecarv1.WriteFilesRequest{Files: []*sidecarv1.File{{Path: bad.path, Content: []byte("x")}}}))
		if connect.CodeOf(err) != bad.code {
			t.Fatalf("WriteFiles(%q): %v, want %v", bad.path, err, bad.code)
		}
	}
	if _, err := c.ReadFile(ctx, connect.NewRequest(&sidecarv1.ReadFileRequest{Path: workspace + "/missing"})); connect.CodeOf(err) != connect.CodeNotFound {
		t.Fatalf("ReadFile missing: %v", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestGRPCHealthAndReflection(t *testing.T) {
	sc := startSidecar(t, Config{Token: "tok"})
	ctx := context.Background()
	// Health needs no token.
	health := grpchealth.NewClient(&http.Client{Transport: sc.transport}, sc.url, connect.WithGRPC())
	resp, err := health.Check(ctx, &grpchealth.CheckRequest{Service: sidecarv1connect.SidecarServiceName})
	if err != nil || resp.Status != grpchealth.StatusServing {
		t.Fatalf("grpc health: %+v %v", resp, err)
	}
	reflect := grpcreflect.NewClient(&http.Client{Transport: sc.transport}, sc.url, connect.WithGRPC())
	stream := reflect.NewStream(ctx)
	defer stream.Close()
	names, err := stream.ListServices()
	if err != nil {
		t.Fatalf("reflection: %v", err)
	}
	found := false
	for _, n := range names {
		found = found || string(n) == sidecarv1connect.SidecarServiceName
	}
	if !found {
		t.Fatalf("reflection lists %v", names)
	}
}

func TestHundredConcurrentExecutes(t *testing.T) {
	sc := startSidecar(t, Config{})
	c := sc.client(connect.WithGRPC())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	errs := make(chan error, 100)
	for i := range 100 {
		go func() {
			resp, err := c.Execute(ctx, connect.NewRequest(&sidecarv1.ExecuteRequest{Command: []string{"echo", itoa(i)}}))
			if err == nil && resp.Msg.GetStdout() != itoa(i)+"\n" {
				err = errors.New("call " + itoa(i) + " got " + resp.Msg.GetStdout())
			}
			errs <- err
		}()
	}
	for range 100 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

func TestResetWithAndWithoutPreserveFiles(t *testing.T) {
	sc := startSidecar(t, Config{})
	c := sc.client(connect.WithGRPC())
	ctx := context.Background()
	keep := filepath.Join(sc.workspace, "keep/me.txt")
	if _, err := c.WriteFiles(ctx, connect.NewRequest(&sidecarv1.WriteFilesRequest{Files: []*sidecarv1.File{{Path: keep, Content: []byte("x")}}})); err != nil {
		t.Fatal(err)
	}
	bg, err := c.Execute(ctx, connect.NewRequest(&sidecarv1.ExecuteRequest{Command: []string{"bash", "-c", "nohup sleep 100 >/dev/null 2>&1 & echo $!"}}))
	if err != nil {
		t.Fatal(err)
	}
	orphan := atoi(t, bg.Msg.GetStdout())
	reset, err := c.Reset(ctx, connect.NewRequest(&sidecarv1.ResetRequest{PreserveFiles: true}))
	if err != nil || reset.Msg.GetProcessesKilled() < 1 {
		t.Fatalf("Reset preserve: %+v %v", reset, err)
	}
	waitGone(t, orphan)
	if _, err := os.Stat(keep); err != nil {
		t.Fatalf("preserve_files=true lost a file: %v", err)
	}
	if _, err := c.Execute(ctx, connect.NewRequest(&sidecarv1.ExecuteRequest{Command: []string{"sleep", "100"}, Background: true})); err != nil {
		t.Fatal(err)
	}
	reset, err = c.Reset(ctx, connect.NewRequest(&sidecarv1.ResetRequest{PreserveFiles: false}))
	if err != nil || reset.Msg.GetProcessesKilled() < 1 {
		t.Fatalf("Reset wipe: %+v %v", reset, err)
	}
	entries, err := os.ReadDir(sc.workspace)
	if err != nil || len(entries) != 0 {
		t.Fatalf("workspace after wipe: %d entries, err %v (the mount point itself must stay)", len(entries), err)
	}
}

func TestOutputCapOverRPC(t *testing.T) {
	sc := startSidecar(t, Config{MaxOutputBytes: 4096})
	resp, err := sc.client(connect.WithGRPC()).Execute(context.Background(), connect.NewRequest(&sidecarv1.ExecuteRequest{
		Command: []string{"sh", "-c", "head -c 10000000 /dev/urandom"},
	}))
	if err != nil {
		t.Fatal(err)
	}
	if !resp.Msg.GetStdoutTruncated() || len(resp.Msg.GetStdout()) < 4096 || len(resp.Msg.GetStdout()) > 3*4096 {
		t.Fatalf("truncated %v, %d bytes kept", resp.Msg.GetStdoutTruncated(), len(resp.Msg.GetStdout()))
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n := 0
	for _, r := range strings.TrimSpace(s) {
		if r < '0' || r > '9' {
			t.Fatalf("not a number: %q", s)
		}
		n = n*10 + int(r-'0')
	}
	return n
}

func TestInteractNeedsAStartFirst(t *testing.T) {
	sc := startSidecar(t, Config{})
	stream := sc.client(connect.WithGRPC()).Interact(context.Background())
	defer closeResponse(t, stream)
	must(t, stream.Send(&sidecarv1.InteractRequest{Event: &sidecarv1.InteractRequest_Stdin{Stdin: []byte("x")}}))
	if _, err := stream.Receive(); connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Fatalf("Interact starting with stdin: %v, want InvalidArgument", err)
	}
	empty := sc.client(connect.WithGRPC()).Interact(context.Background())
	defer closeResponse(t, empty)
	must(t, empty.Send(&sidecarv1.InteractRequest{Event: &sidecarv1.InteractRequest_Start{Start: &sidecarv1.InteractStart{}}}))
	if _, err := empty.Receive(); connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Fatalf("Interact with an empty command: %v, want InvalidArgument", err)
	}
}
