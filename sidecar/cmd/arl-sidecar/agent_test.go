package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"connectrpc.com/connect"

	sidecarv1 "github.com/arl-infra/arl/proto/gen/arl/sidecar/v1"
	"github.com/arl-infra/arl/proto/gen/arl/sidecar/v1/sidecarv1connect"
)

func parentOf(t *testing.T, pid int) int {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatalf("stat %d: %v", pid, err)
	}
	fields := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+2:]))
	ppid, _ := strconv.Atoi(fields[1])
	return ppid
}

func gone(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	s := string(data)
	return s[strings.LastIndexByte(s, ')')+2] == 'Z'
}

func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !gone(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("process %d still alive", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestAgentMode runs `serve --agent-socket` and `agent -- sleep infinity`
// as two processes: process calls go through the agent (a subreaper), files
// stay in serve.
func TestAgentMode(t *testing.T) {
	dir := t.TempDir()
	socket := filepath.Join(dir, "arl", "agent.sock")
	workspace := filepath.Join(dir, "workspace")
	if err := os.Mkdir(workspace, 0o755); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	url := "http://127.0.0.1:" + strconv.Itoa(port)
	serve := start(t, binary, "serve", "--http-addr=127.0.0.1:"+strconv.Itoa(port), "--grpc-addr=",
		"--workspace="+workspace, "--agent-socket="+socket, "--token-file=")

	// No agent yet: health says not serving, process calls say Unavailable.
	waitHealth(t, url, http.StatusServiceUnavailable)
	status, body := post(t, url+"/execute", `{"command": ["true"]}`)
	if status != http.StatusServiceUnavailable || !strings.Contains(fmt.Sprint(body["message"]), "agent") {
		t.Fatalf("execute without agent: %d %v", status, body)
	}

	agent := start(t, binary, "agent", "--socket="+socket, "--workspace="+workspace, "--", "sleep", "infinity")
	waitHealth(t, url, http.StatusOK)
	agentPid := agent.cmd.Process.Pid

	// A background process is the agent's child.
	status, body = post(t, url+"/execute", `{"command": ["sleep", "100"], "background": true}`)
	if status != 200 || body["done"] != false {
		t.Fatalf("background execute: %d %v", status, body)
	}
	bgPid := int(body["pid"].(float64))
	if ppid := parentOf(t, bgPid); ppid != agentPid {
		t.Fatalf("background process %d has parent %d, want the agent %d", bgPid, ppid, agentPid)
	}

	// A nohup'd grandchild is reparented to the agent (subreaper) and can be signalled.
	status, body = post(t, url+"/execute", `{"command": ["bash", "-c", "nohup sleep 100 > /dev/null 2>&1 & echo $!"]}`)
	if status != 200 || body["exit_code"] != float64(0) {
		t.Fatalf("nohup execute: %d %v", status, body)
	}
	orphan, err := strconv.Atoi(strings.TrimSpace(body["stdout"].(string)))
	if err != nil {
		t.Fatalf("nohup pid %q", body["stdout"])
	}
	deadline := time.Now().Add(5 * time.Second)
	for parentOf(t, orphan) != agentPid && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if ppid := parentOf(t, orphan); ppid != agentPid {
		t.Fatalf("nohup'd grandchild %d has parent %d, want the agent %d (subreaper)", orphan, ppid, agentPid)
	}
	status, body = post(t, url+"/signal", fmt.Sprintf(`{"pid": %d, "signal": "SIGTERM"}`, orphan))
	if status != 200 || body["message"] != fmt.Sprintf("signal SIGTERM sent to process %d", orphan) {
		t.Fatalf("signal grandchild: %d %v", status, body)
	}
	waitGone(t, orphan) // killed and reaped by the agent

	// Not ours: the test process itself, and the agent's main command.
	for _, pid := range []int{os.Getpid(), mainCommandPid(t, agentPid)} {
		if status, body := post(t, url+"/signal", fmt.Sprintf(`{"pid": %d, "signal": "SIGKILL"}`, pid)); status != http.StatusForbidden {
			t.Fatalf("signal %d: %d %v, want 403", pid, status, body)
		}
	}

	// Streams go through the agent too.
	client := sidecarv1connect.NewSidecarServiceClient(h2cClient(), url, connect.WithGRPC())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	stream, err := client.ExecuteStream(ctx, connect.NewRequest(&sidecarv1.ExecuteStreamRequest{Command: []string{"sh", "-c", "echo streamed; exit 3"}}))
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	var exit int32 = -1
	for stream.Receive() {
		out.Write(stream.Msg().GetOutput().GetData())
		if end := stream.Msg().GetEnd(); end != nil {
			exit = end.GetExitCode()
		}
	}
	stream.Close()
	if stream.Err() != nil || out.String() != "streamed\n" || exit != 3 {
		t.Fatalf("ExecuteStream via agent: %q exit %d err %v", out.String(), exit, stream.Err())
	}
	bidi := client.Interact(ctx)
	_ = bidi.Send(&sidecarv1.InteractRequest{Event: &sidecarv1.InteractRequest_Start{Start: &sidecarv1.InteractStart{Command: []string{"cat"}}}})
	_ = bidi.Send(&sidecarv1.InteractRequest{Event: &sidecarv1.InteractRequest_Stdin{Stdin: []byte("echo me")}})
	_ = bidi.CloseRequest()
	out.Reset()
	exit = -1
	for {
		msg, err := bidi.Receive()
		if err != nil {
			break
		}
		out.Write(msg.GetOutput().GetData())
		if end := msg.GetEnd(); end != nil {
			exit = end.GetExitCode()
		}
	}
	if err := bidi.CloseResponse(); err != nil {
		t.Errorf("close response: %v", err)
	}
	if out.String() != "echo me" || exit != 0 {
		t.Fatalf("Interact via agent: %q exit %d", out.String(), exit)
	}
	list, err := client.ListProcesses(ctx, connect.NewRequest(&sidecarv1.ListProcessesRequest{}))
	if err != nil || len(list.Msg.GetProcesses()) != 1 || list.Msg.GetProcesses()[0].GetPid() != int32(bgPid) {
		t.Fatalf("ListProcesses via agent: %v %v", list, err)
	}
	got, err := client.GetProcess(ctx, connect.NewRequest(&sidecarv1.GetProcessRequest{Pid: int32(bgPid)}))
	if err != nil || got.Msg.GetProcess().GetDone() {
		t.Fatalf("GetProcess via agent: %v %v", got, err)
	}

	// Files stay in serve; reset without preserve_files ends the processes
	// in the agent and empties the workspace, and leaves the main command.
	if _, err := client.WriteFiles(ctx, connect.NewRequest(&sidecarv1.WriteFilesRequest{Files: []*sidecarv1.File{{Path: workspace + "/a/b.txt", Content: []byte("x")}}})); err != nil {
		t.Fatal(err)
	}
	status, body = post(t, url+"/reset", `{"preserve_files": false}`)
	if status != 200 || body["success"] != true || body["processes_killed"].(float64) < 1 {
		t.Fatalf("reset: %d %v", status, body)
	}
	waitGone(t, bgPid)
	if entries, err := os.ReadDir(workspace); err != nil || len(entries) != 0 {
		t.Fatalf("workspace after reset: %v %v", entries, err)
	}
	main := mainCommandPid(t, agentPid)
	if gone(main) {
		t.Fatalf("reset killed the agent's main command")
	}

	// SIGTERM to the agent reaches the main command; the agent exits with its code.
	if code := agent.stop(t); code != 128+int(syscall.SIGTERM) {
		t.Fatalf("agent exit code %d, want %d (sleep killed by SIGTERM)", code, 128+int(syscall.SIGTERM))
	}
	waitGone(t, main)
	waitHealth(t, url, http.StatusServiceUnavailable)
	if code := serve.stop(t); code != 0 {
		t.Fatalf("serve exit code %d", code)
	}
}

// mainCommandPid finds the agent's `sleep infinity` child.
func mainCommandPid(t *testing.T, agentPid int) int {
	t.Helper()
	// Children are listed per thread; the command may have been forked by any.
	files, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", agentPid))
	var children []string
	for _, f := range files {
		data, _ := os.ReadFile(f)
		children = append(children, strings.Fields(string(data))...)
	}
	for _, f := range children {
		pid, _ := strconv.Atoi(f)
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if strings.HasPrefix(string(cmdline), "sleep\x00infinity") {
			return pid
		}
	}
	t.Fatalf("no `sleep infinity` under the agent %d", agentPid)
	return 0
}

func h2cClient() *http.Client {
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	return &http.Client{Transport: &http.Transport{Protocols: &p, DisableKeepAlives: true}}
}
