package sandbox_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/arl-infra/arl/tools/node/internal/netsetup"
	"github.com/arl-infra/arl/tools/node/internal/sandbox"
)

const testBridge = "arltest0"

func TestMain(m *testing.M) {
	sandbox.MaybeRunInit()
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "sandbox tests create namespaces and veths: run them as root")
		os.Exit(1)
	}
	if _, err := exec.LookPath("ip"); err != nil {
		fmt.Fprintln(os.Stderr, "sandbox tests need iproute2: apt-get install iproute2")
		os.Exit(1)
	}
	gw := netip.MustParseAddr("10.250.0.1")
	if err := netsetup.EnsureBridge(testBridge, gw, 24); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	_ = netsetup.DeleteBridge(testBridge)
	os.Exit(code)
}

type testPod struct {
	net netsetup.PodNetwork
	sb  *sandbox.Sandbox
	dir string
}

func startPod(t *testing.T, id string, addr string) *testPod {
	t.Helper()
	return startPodHiding(t, id, addr, nil)
}

// startPodHiding starts a pod whose containers do not see the hidden directories.
func startPodHiding(t *testing.T, id string, addr string, hidden []string) *testPod {
	t.Helper()
	return startPodWith(t, id, addr, sandbox.Config{Hidden: hidden})
}

// startPodWith starts a pod configured as cfg (its node binary, hostname,
// directory and network filled in).
func startPodWith(t *testing.T, id string, addr string, cfg sandbox.Config) *testPod {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	n, err := netsetup.CreatePodNetwork("t"+id, netip.MustParseAddr(addr), 24, testBridge)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg.Self, cfg.Hostname, cfg.Dir, cfg.NetnsPath = self, "pod-"+id, dir, n.NetnsPath()
	sb, err := sandbox.Start(cfg)
	if err != nil {
		_ = netsetup.DeletePodNetwork(n)
		t.Fatal(err)
	}
	p := &testPod{net: n, sb: sb, dir: dir}
	t.Cleanup(func() { p.stop(t) })
	return p
}

func (p *testPod) stop(t *testing.T) {
	p.sb.Stop()
	if err := netsetup.DeletePodNetwork(p.net); err != nil {
		t.Error(err)
	}
}

// run starts argv in the pod and returns its output and exit code.
func (p *testPod) run(t *testing.T, mounts []sandbox.Mount, argv ...string) (string, int) {
	t.Helper()
	return p.runSpec(t, sandbox.ContainerSpec{Argv: argv, Mounts: mounts})
}

// runSpec runs one container (its output files and environment filled in)
// to the end and returns its output and exit code.
func (p *testPod) runSpec(t *testing.T, spec sandbox.ContainerSpec) (string, int) {
	t.Helper()
	cmd, out := p.startSpec(t, spec)
	err := cmd.Wait()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		t.Fatal(err)
	}
	return out(), cmd.ProcessState.ExitCode()
}

func (p *testPod) start(t *testing.T, mounts []sandbox.Mount, argv ...string) (*exec.Cmd, func() string) {
	t.Helper()
	return p.startSpec(t, sandbox.ContainerSpec{Argv: argv, Mounts: mounts})
}

func (p *testPod) startSpec(t *testing.T, spec sandbox.ContainerSpec) (*exec.Cmd, func() string) {
	t.Helper()
	outFile, err := os.CreateTemp(p.dir, "out")
	if err != nil {
		t.Fatal(err)
	}
	spec.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=/root"}
	spec.Stdout, spec.Stderr = outFile, outFile
	cmd, err := p.sb.StartContainer(spec)
	outFile.Close()
	if err != nil {
		t.Fatal(err)
	}
	return cmd, func() string {
		data, _ := os.ReadFile(outFile.Name())
		return string(data)
	}
}

func TestContainersShareEmptyDir(t *testing.T) {
	p := startPod(t, "share", "10.250.0.10")
	vol := filepath.Join(p.dir, "workspace")
	if err := os.MkdirAll(vol, 0o755); err != nil {
		t.Fatal(err)
	}
	mounts := []sandbox.Mount{{Source: vol, Target: "/workspace"}}
	if out, code := p.run(t, mounts, "sh", "-c", "echo from-writer > /workspace/note.txt"); code != 0 {
		t.Fatalf("writer exited %d: %s", code, out)
	}
	out, code := p.run(t, mounts, "cat", "/workspace/note.txt")
	if code != 0 || strings.TrimSpace(out) != "from-writer" {
		t.Fatalf("reader got %q (exit %d), want from-writer", out, code)
	}
	if _, err := os.Stat("/workspace/note.txt"); err == nil {
		t.Fatalf("the file leaked onto the host's /workspace")
	}
	out, _ = p.run(t, nil, "hostname")
	if strings.TrimSpace(out) != "pod-share" {
		t.Fatalf("hostname = %q, want pod-share", out)
	}
}

func TestPidNamespaceIsolation(t *testing.T) {
	a := startPod(t, "pida", "10.250.0.11")
	b := startPod(t, "pidb", "10.250.0.12")
	sleeper, _ := a.start(t, nil, "sleep", "1234")
	defer func() { _ = sleeper.Process.Kill() }() // it may have gone with its pod already
	// Another container of the same pod sees only its own processes: its
	// init (PID 1) and ps (not PID 2: the init's threads took PIDs).
	out, _ := a.run(t, nil, "ps", "-eo", "pid,args")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || strings.Contains(out, "sleep 1234") || strings.Contains(out, "pod-init") ||
		!strings.Contains(lines[1], "container-init") || !strings.HasPrefix(strings.TrimSpace(lines[1]), "1 ") || !strings.Contains(lines[2], " ps -eo") {
		t.Fatalf("a container of pod a sees more than its own init and ps:\n%s", out)
	}
	// It cannot signal the sleeper, by name or by its host PID.
	out, code := a.run(t, nil, "sh", "-c", fmt.Sprintf("pkill -f 'slee[p] 1234'; echo pkill=$?; kill -9 %d; echo kill=$?", sleeper.Process.Pid))
	if !strings.Contains(out, "pkill=1") || !strings.Contains(out, "kill=1") || code != 0 {
		t.Fatalf("signalling the other container's process: %s (exit %d)", out, code)
	}
	if err := sleeper.Process.Signal(syscall.Signal(0)); err != nil {
		t.Fatalf("the sleeper died: %v", err)
	}
	// Exec lands in the sleeper's container: its init, the sleeper, ps.
	execOut, err := sandbox.ExecCommand(sleeper.Process.Pid, []string{"ps", "-eo", "pid,args"}, []string{"PATH=" + os.Getenv("PATH")}, "").CombinedOutput()
	if err != nil {
		t.Fatalf("exec: %v: %s", err, execOut)
	}
	lines = strings.Split(strings.TrimSpace(string(execOut)), "\n")
	if len(lines) != 4 || !strings.Contains(lines[1], "container-init") || !strings.HasPrefix(strings.TrimSpace(lines[1]), "1 ") || !strings.Contains(lines[2], " sleep 1234") ||
		!strings.Contains(lines[3], "ps -eo") {
		t.Fatalf("exec into the sleeper's container sees:\n%s", execOut)
	}
	out, code = b.run(t, nil, "pgrep", "-f", "sleep 1234")
	if code == 0 {
		t.Fatalf("pod b sees pod a's sleep: %s", out)
	}
}

// With shareProcessNamespace the containers of a pod see and signal each
// other's processes, under pod-init.
func TestSharedPidNamespace(t *testing.T) {
	p := startPodWith(t, "pidshare", "10.250.0.13", sandbox.Config{SharePIDNamespace: true})
	sleeper, _ := p.start(t, nil, "sleep", "1235")
	defer func() { _ = sleeper.Process.Kill() }()
	out, _ := p.run(t, nil, "ps", "-eo", "pid,args")
	if !strings.Contains(out, "sleep 1235") || !strings.Contains(out, "1 ") || !strings.Contains(out, "pod-init") {
		t.Fatalf("a container of a pod sharing its PID namespace misses the other's sleep or pod-init:\n%s", out)
	}
	if out, code := p.run(t, nil, "pkill", "-f", "sleep 1235"); code != 0 {
		t.Fatalf("pkill in the shared namespace: %s (exit %d)", out, code)
	}
	err := sleeper.Wait()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.Sys().(syscall.WaitStatus).Signal() != syscall.SIGTERM {
		t.Fatalf("the sleeper ended with %v, want SIGTERM from the other container", err)
	}
}

// container-init, PID 1 of a container's namespace, passes on the command's
// exit status, forwards signals to it and reaps orphans.
func TestContainerInitExitCodesSignalsAndReaping(t *testing.T) {
	p := startPod(t, "cinit", "10.250.0.14")
	for _, tc := range []struct {
		script string
		want   int
	}{{"exit 3", 3}, {"kill -9 $$", 137}, {"true", 0}} {
		if out, code := p.run(t, nil, "sh", "-c", tc.script); code != tc.want {
			t.Errorf("%q exited %d, want %d: %s", tc.script, code, tc.want, out)
		}
	}
	// SIGTERM to the container's process group (what the node sends)
	// ends a command that does not handle it.
	cmd, _ := p.start(t, nil, "sleep", "1236")
	time.Sleep(100 * time.Millisecond)
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if code := cmd.ProcessState.ExitCode(); code != 128+int(syscall.SIGTERM) {
			t.Fatalf("a SIGTERMed sleep exited %d (%v), want 143", code, err)
		}
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("SIGTERM did not end the container's command")
	}
	// An orphan reparented to PID 1 is reaped, not left a zombie.
	out, _ := p.run(t, nil, "sh", "-c", "sh -c 'sleep 0.1 &' ; sleep 0.5; ps -eo stat,args")
	if strings.Contains(out, "<defunct>") || !strings.Contains(out, "ps -eo stat,args") {
		t.Fatalf("an orphan was left a zombie:\n%s", out)
	}
}

func TestTwoPodsServeSamePort(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Fatal("this test serves HTTP with python3: install python3")
	}
	pods := map[string]*testPod{
		"10.250.0.21": startPod(t, "web1", "10.250.0.21"),
		"10.250.0.22": startPod(t, "web2", "10.250.0.22"),
	}
	for ip, p := range pods {
		root := filepath.Join(p.dir, "www")
		if err := os.MkdirAll(root, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, "who"), []byte(ip), 0o644); err != nil {
			t.Fatal(err)
		}
		srv, _ := p.start(t, []sandbox.Mount{{Source: root, Target: "/srv-test"}},
			"python3", "-m", "http.server", "5000", "--bind", "0.0.0.0", "--directory", "/srv-test")
		defer func() { _ = srv.Process.Kill() }() // it may have gone with its pod already
	}
	for ip, p := range pods {
		body := waitGet(t, "http://"+ip+":5000/who")
		if body != ip {
			t.Fatalf("host GET %s answered %q", ip, body)
		}
		out, code := p.run(t, nil, "python3", "-c",
			"import urllib.request;print(urllib.request.urlopen('http://localhost:5000/who').read().decode())")
		if code != 0 || strings.TrimSpace(out) != ip {
			t.Fatalf("localhost:5000 inside %s answered %q (exit %d)", ip, out, code)
		}
	}
	// No default route: leaving the pod network fails at once.
	start := time.Now()
	out, code := pods["10.250.0.21"].run(t, nil, "python3", "-c",
		"import socket;socket.create_connection(('1.1.1.1',80),timeout=5)")
	if code == 0 || time.Since(start) > 3*time.Second || !strings.Contains(out, "unreachable") {
		t.Fatalf("connecting outside the pod network: exit %d after %v: %s", code, time.Since(start), out)
	}
}

func waitGet(t *testing.T, url string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return string(body)
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %v", url, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestMissingCommandIsStartError(t *testing.T) {
	p := startPod(t, "missing", "10.250.0.30")
	_, err := p.sb.StartContainer(sandbox.ContainerSpec{
		Argv: []string{"no-such-command-xyz"}, Env: []string{"PATH=/usr/bin:/bin"},
	})
	var startErr *sandbox.StartError
	if !errors.As(err, &startErr) {
		t.Fatalf("want a StartError, got %v", err)
	}
	if startErr.ExitCode != 127 || !strings.Contains(startErr.Message, "no-such-command-xyz") {
		t.Fatalf("got exit %d message %q", startErr.ExitCode, startErr.Message)
	}
	out, code := p.run(t, nil, "true")
	if code != 0 {
		t.Fatalf("the pod stopped working after a start error: %s", out)
	}
}

func TestStopKillsEverythingAndCleanupFindsNothing(t *testing.T) {
	self, _ := os.Executable()
	n, err := netsetup.CreatePodNetwork("tstop", netip.MustParseAddr("10.250.0.40"), 24, testBridge)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	sb, err := sandbox.Start(sandbox.Config{Self: self, Hostname: "stop", Dir: dir, NetnsPath: n.NetnsPath()})
	if err != nil {
		t.Fatal(err)
	}
	// A process that ignores SIGTERM and daemonizes a grandchild.
	cmd, err := sb.StartContainer(sandbox.ContainerSpec{
		Argv: []string{"sh", "-c", "trap '' TERM; setsid sleep 4321 & sleep 4322"}, Env: []string{"PATH=" + os.Getenv("PATH")},
	})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if n, err := sandbox.KillPodsUnder(dir); err != nil || n != 1 {
		t.Fatalf("KillPodsUnder found %d pods (err %v), want 1", n, err)
	}
	_ = cmd.Wait()
	sb.Stop()
	if err := netsetup.DeletePodNetwork(n); err != nil {
		t.Fatal(err)
	}
	out, _ := exec.Command("pgrep", "-f", "sleep 432").CombinedOutput()
	if len(bytes.TrimSpace(out)) != 0 {
		t.Fatalf("processes survived: %s", out)
	}
	if _, err := os.Stat(n.NetnsPath()); err == nil {
		t.Fatalf("network namespace %s still exists", n.NetnsPath())
	}
}

// A volume mounted at /tmp must not hide the sources of the volumes after it
// when the node's state directory lives under /tmp (as t.TempDir does).
func TestVolumeAtTmpDoesNotHideLaterSources(t *testing.T) {
	p := startPod(t, "tmpvol", "10.250.0.11")
	if !strings.HasPrefix(p.dir, "/tmp/") {
		t.Fatalf("the pod dir %s is not under /tmp: this test needs TMPDIR=/tmp", p.dir)
	}
	tmpVol, dataVol := filepath.Join(p.dir, "tmp"), filepath.Join(p.dir, "data")
	for _, d := range []string{tmpVol, dataVol} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dataVol, "x"), []byte("data-volume"), 0o644); err != nil {
		t.Fatal(err)
	}
	mounts := []sandbox.Mount{{Source: tmpVol, Target: "/tmp"}, {Source: dataVol, Target: "/arl-test-data"}}
	out, code := p.run(t, mounts, "cat", "/arl-test-data/x")
	if code != 0 || out != "data-volume" {
		t.Fatalf("reading the second volume gave %q (exit %d)", out, code)
	}
}

// A mapped image's binary under /tmp still runs when a volume covers /tmp.
func TestBinaryUnderCoveredTmpStillRuns(t *testing.T) {
	p := startPod(t, "tmpbin", "10.250.0.12")
	echo, err := exec.LookPath("echo")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(echo)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(p.dir, "bin", "arl-echo")
	tmpVol := filepath.Join(p.dir, "tmp")
	for _, d := range []string{filepath.Dir(bin), tmpVol} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	out, code := p.run(t, []sandbox.Mount{{Source: tmpVol, Target: "/tmp"}}, bin, "mapped-binary-ran")
	if code != 0 || strings.TrimSpace(out) != "mapped-binary-ran" {
		t.Fatalf("running %s under a covered /tmp gave %q (exit %d)", bin, out, code)
	}
}
