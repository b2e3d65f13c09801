package process

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func newTestManager(t *testing.T, cfg Config) *Manager {
	t.Helper()
	if cfg.WorkspaceRoot == "" {
		cfg.WorkspaceRoot = t.TempDir()
	}
	m, err := NewManager(cfg)
	if err != nil {
		t.Fatalf("NewManager: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func run(t *testing.T, m *Manager, spec Spec) (*Process, Result) {
	t.Helper()
	p, err := m.Start(spec)
	if err != nil {
		t.Fatalf("Start(%v): %v", spec.Argv, err)
	}
	select {
	case <-p.Done():
	case <-time.After(20 * time.Second):
		t.Fatalf("%v did not finish", spec.Argv)
	}
	return p, p.Result()
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	st, err := readProcStat(pid)
	return err == nil && st.state != 'Z'
}

func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("process %d still alive", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestExecCapturesOutputAndExitCode(t *testing.T) {
	m := newTestManager(t, Config{})
	p, r := run(t, m, Spec{Argv: []string{"sh", "-c", "echo out; echo err >&2; exit 3"}})
	stdout, _, stderr, _ := p.Output()
	if stdout != "out\n" || stderr != "err\n" || r.ExitCode != 3 {
		t.Fatalf("got stdout %q stderr %q exit %d", stdout, stderr, r.ExitCode)
	}
	if p.Pid <= 0 {
		t.Fatalf("pid %d", p.Pid)
	}
}

func TestDefaultWorkingDirIsWorkspaceAndRelativeDirsAreUnderIt(t *testing.T) {
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	m := newTestManager(t, Config{WorkspaceRoot: root})
	p, _ := run(t, m, Spec{Argv: []string{"pwd"}})
	if out, _, _, _ := p.Output(); strings.TrimSpace(out) != root {
		t.Fatalf("pwd = %q, want %q", out, root)
	}
	p, _ = run(t, m, Spec{Argv: []string{"pwd"}, Dir: "sub"})
	if out, _, _, _ := p.Output(); strings.TrimSpace(out) != filepath.Join(root, "sub") {
		t.Fatalf("pwd = %q", out)
	}
	if _, err := m.Start(Spec{Argv: []string{"pwd"}, Dir: "/does/not/exist"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("missing dir: err = %v, want ErrInvalid", err)
	}
}

func TestEnvIsMergedOverProcessEnv(t *testing.T) {
	t.Setenv("ARL_TEST_BASE", "base")
	m := newTestManager(t, Config{})
	p, _ := run(t, m, Spec{Argv: []string{"sh", "-c", `echo "$ARL_TEST_BASE $ARL_TEST_EXTRA $HOME"`}, Env: map[string]string{"ARL_TEST_EXTRA": "extra", "HOME": "/nowhere"}})
	if out, _, _, _ := p.Output(); out != "base extra /nowhere\n" {
		t.Fatalf("env output %q", out)
	}
}

func TestCommandNotFoundIs127AndNotExecutableIs126(t *testing.T) {
	m := newTestManager(t, Config{})
	p, r := run(t, m, Spec{Argv: []string{"arl-no-such-command"}})
	_, _, stderr, _ := p.Output()
	if r.ExitCode != 127 || !strings.Contains(stderr, "arl-no-such-command: command not found") {
		t.Fatalf("exit %d stderr %q", r.ExitCode, stderr)
	}
	script := filepath.Join(t.TempDir(), "script.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho hi\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, r = run(t, m, Spec{Argv: []string{script}})
	_, _, stderr, _ = p.Output()
	if r.ExitCode != 126 || !strings.Contains(stderr, "permission denied") {
		t.Fatalf("exit %d stderr %q", r.ExitCode, stderr)
	}
	// PATH from the request is honoured.
	if err := os.Chmod(script, 0o755); err != nil {
		t.Fatal(err)
	}
	p, r = run(t, m, Spec{Argv: []string{"script.sh"}, Env: map[string]string{"PATH": filepath.Dir(script)}})
	if out, _, _, _ := p.Output(); r.ExitCode != 0 || out != "hi\n" {
		t.Fatalf("PATH lookup: exit %d out %q", r.ExitCode, out)
	}
}

func TestStdinIsFed(t *testing.T) {
	m := newTestManager(t, Config{})
	p, _ := run(t, m, Spec{Argv: []string{"cat"}, Stdin: []byte("from stdin")})
	if out, _, _, _ := p.Output(); out != "from stdin" {
		t.Fatalf("cat output %q", out)
	}
	// Without stdin the process reads /dev/null and does not hang.
	p, _ = run(t, m, Spec{Argv: []string{"cat"}})
	if out, _, _, _ := p.Output(); out != "" {
		t.Fatalf("cat output %q", out)
	}
}

func TestOutputIsCappedAndFlagged(t *testing.T) {
	m := newTestManager(t, Config{MaxOutputBytes: 1000})
	// 50 MB through a 1000-byte cap: the process must finish and memory stay bounded.
	p, r := run(t, m, Spec{Argv: []string{"sh", "-c", "head -c 50000000 /dev/zero; echo small >&2"}})
	stdout, stdoutTrunc, stderr, stderrTrunc := p.Output()
	if len(stdout) != 1000 || !stdoutTrunc || !r.StdoutTruncated {
		t.Fatalf("stdout len %d truncated %v/%v", len(stdout), stdoutTrunc, r.StdoutTruncated)
	}
	if stderr != "small\n" || stderrTrunc || r.StderrTruncated {
		t.Fatalf("stderr %q truncated %v", stderr, stderrTrunc)
	}
}

func TestTimeoutKillsTheWholeGroupIncludingGrandchildren(t *testing.T) {
	m := newTestManager(t, Config{Subreaper: true})
	pidFile := filepath.Join(t.TempDir(), "grandchild.pid")
	start := time.Now()
	_, r := run(t, m, Spec{
		Argv:    []string{"bash", "-c", "sleep 100 & echo $! > " + pidFile + "; sleep 100"},
		Timeout: 500 * time.Millisecond,
	})
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Fatalf("timeout took %v", elapsed)
	}
	if !r.TimedOut || r.Signal != "SIGKILL" || r.ExitCode != 137 {
		t.Fatalf("result %+v, want timed out by SIGKILL", r)
	}
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	grandchild, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	if grandchild <= 0 {
		t.Fatalf("grandchild pid %q", data)
	}
	waitGone(t, grandchild)
}

func TestForegroundReturnsEvenIfAGrandchildKeepsThePipe(t *testing.T) {
	m := newTestManager(t, Config{Subreaper: true})
	start := time.Now()
	p, r := run(t, m, Spec{Argv: []string{"bash", "-c", "sleep 30 & echo started"}})
	if elapsed := time.Since(start); elapsed > 3*time.Second {
		t.Fatalf("took %v: the leftover grandchild blocked the run", elapsed)
	}
	if out, _, _, _ := p.Output(); out != "started\n" || r.ExitCode != 0 {
		t.Fatalf("out %q exit %d", out, r.ExitCode)
	}
	if killed := m.KillAll(); killed < 1 {
		t.Fatalf("KillAll killed %d, want the leftover sleep", killed)
	}
}

func TestBackgroundProcessKeepsBoundedOutput(t *testing.T) {
	m := newTestManager(t, Config{MaxOutputBytes: 64})
	p, err := m.Start(Spec{Argv: []string{"sh", "-c", "echo ready; sleep 0.2; head -c 1000 /dev/zero | tr '\\0' x"}, Background: true})
	if err != nil {
		t.Fatal(err)
	}
	got, ok := m.Get(p.Pid)
	if !ok || got.Info().Done {
		t.Fatalf("background process not listed as running")
	}
	<-p.Done()
	stdout, truncated, _, _ := p.Output()
	if !strings.HasPrefix(stdout, "ready\n") || len(stdout) != 64 || !truncated {
		t.Fatalf("kept output %q (%d bytes) truncated %v", stdout, len(stdout), truncated)
	}
	if len(m.List(false)) != 0 || len(m.List(true)) != 1 {
		t.Fatalf("list running %d, all %d", len(m.List(false)), len(m.List(true)))
	}
}

func TestSignalOnlyInsideTheTree(t *testing.T) {
	m := newTestManager(t, Config{Subreaper: true})
	pidFile := filepath.Join(t.TempDir(), "nohup.pid")
	// The grandchild outlives its parent and is reparented to the subreaper.
	_, r := run(t, m, Spec{Argv: []string{"bash", "-c", "nohup sleep 100 > /dev/null 2>&1 & echo $! > " + pidFile}})
	if r.ExitCode != 0 {
		t.Fatalf("exit %d", r.ExitCode)
	}
	data, _ := os.ReadFile(pidFile)
	orphan, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	if st, err := readProcStat(orphan); err != nil || st.ppid != os.Getpid() {
		t.Fatalf("orphan %d: stat %+v err %v, want reparented to us (%d)", orphan, st, err, os.Getpid())
	}
	if err := m.Signal(orphan, syscall.SIGTERM); err != nil {
		t.Fatalf("signal orphan: %v", err)
	}
	waitGone(t, orphan) // also proves the reaper reaped it

	if err := m.Signal(os.Getppid(), syscall.SIGTERM); !errors.Is(err, ErrNotInTree) {
		t.Fatalf("signal a foreign pid: err = %v, want ErrNotInTree", err)
	}
	if err := m.Signal(os.Getpid(), syscall.SIGTERM); err == nil {
		t.Fatalf("signalling the sidecar itself must fail")
	}
	if err := m.Signal(1<<22+12345, syscall.SIGTERM); !errors.Is(err, ErrNotFound) {
		t.Fatalf("signal a missing pid: err = %v, want ErrNotFound", err)
	}

	bg, err := m.Start(Spec{Argv: []string{"sleep", "100"}, Background: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Signal(bg.Pid, syscall.SIGINT); err != nil {
		t.Fatalf("signal background: %v", err)
	}
	if r := bg.Result(); r.Signal != "SIGINT" {
		t.Fatalf("background result %+v, want ended by SIGINT", r)
	}
}

func TestKillAllEndsEveryUserProcess(t *testing.T) {
	m := newTestManager(t, Config{Subreaper: true})
	dir := t.TempDir()
	var pids []int
	for i := range 3 {
		p, err := m.Start(Spec{Argv: []string{"sleep", "100"}, Background: true})
		if err != nil {
			t.Fatal(err)
		}
		pids = append(pids, p.Pid)
		pidFile := filepath.Join(dir, strconv.Itoa(i))
		run(t, m, Spec{Argv: []string{"bash", "-c", "setsid sleep 100 > /dev/null 2>&1 & echo $! > " + pidFile}})
		data, _ := os.ReadFile(pidFile)
		orphan, _ := strconv.Atoi(strings.TrimSpace(string(data)))
		pids = append(pids, orphan)
	}
	if killed := m.KillAll(); killed < len(pids) {
		t.Fatalf("KillAll killed %d, want at least %d", killed, len(pids))
	}
	for _, pid := range pids {
		waitGone(t, pid)
	}
	if running := m.List(false); len(running) != 0 {
		t.Fatalf("%d processes still listed as running", len(running))
	}
}

func TestParseSignal(t *testing.T) {
	for _, name := range []string{"SIGTERM", "TERM", "term", "SIGKILL", "INT", "SIGHUP", "QUIT", "USR1", "SIGUSR2"} {
		if _, _, err := ParseSignal(name); err != nil {
			t.Errorf("ParseSignal(%q): %v", name, err)
		}
	}
	for _, name := range []string{"", "SIGSTOP", "9", "SIGFOO"} {
		if _, _, err := ParseSignal(name); err == nil {
			t.Errorf("ParseSignal(%q) accepted", name)
		}
	}
	if canonical, sig, _ := ParseSignal("term"); canonical != "SIGTERM" || sig != syscall.SIGTERM {
		t.Errorf("ParseSignal(term) = %s %v", canonical, sig)
	}
}

// Output written before the exit survives a drain deadline that expires
// before the reader runs (a busy machine).
func TestDrainKeepsBufferedOutputAfterTheDeadline(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("buffered before exit")); err != nil {
		t.Fatal(err)
	}
	// The write end stays open, like a grandchild holding the pipe.
	defer w.Close()
	if err := r.SetReadDeadline(time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	out := newCapturedOutput(1024)
	var wg sync.WaitGroup
	wg.Add(1)
	pump(r, Stdout, out, nil, &wg)
	if got, _ := out.snapshot(); got != "buffered before exit" {
		t.Fatalf("kept %q", got)
	}
}

// KillAll must find an orphan while other children of this process come and
// go (proc(5): a task's children file may omit live children then).
func TestKillAllFindsAnOrphanWhileOtherChildrenExit(t *testing.T) {
	m := newTestManager(t, Config{Subreaper: true})
	stop := make(chan struct{})
	churned := make(chan struct{})
	go func() {
		defer close(churned)
		for {
			select {
			case <-stop:
				return
			default:
			}
			_ = exec.Command("true").Run() // a child of this process, not the manager's
		}
	}()
	defer func() { close(stop); <-churned }()
	pidFile := filepath.Join(t.TempDir(), "orphan.pid")
	for i := range 20 {
		run(t, m, Spec{Argv: []string{"bash", "-c", "sleep 100 > /dev/null 2>&1 & echo $! > " + pidFile}})
		data, _ := os.ReadFile(pidFile)
		orphan, _ := strconv.Atoi(strings.TrimSpace(string(data)))
		m.KillAll()
		if alive(orphan) {
			t.Fatalf("round %d: the orphan sleep %d survived KillAll", i, orphan)
		}
	}
}
