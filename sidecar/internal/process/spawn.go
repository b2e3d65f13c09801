package process

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/creack/pty"
)

// drainGrace is how long output is still read after a process exits:
// grandchildren it left behind may hold the pipes open for ever.
const drainGrace = 100 * time.Millisecond

var readBufPool = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// Start starts a process. A command that does not exist or cannot be
// executed is not an error: it gives a finished process with exit code 127
// or 126 and a message on stderr, as a shell would. Errors wrap ErrInvalid
// for bad requests.
func (m *Manager) Start(spec Spec) (*Process, error) {
	if len(spec.Argv) == 0 || spec.Argv[0] == "" {
		return nil, fmt.Errorf("%w: command is empty", ErrInvalid)
	}
	if err := validateStrings(spec); err != nil {
		return nil, err
	}
	dir, err := m.workingDir(spec.Dir)
	if err != nil {
		return nil, err
	}
	env, pathEnv := m.env(spec.Env)
	commandID := strconv.FormatUint(m.nextCommandID.Add(1), 10) + "." + strconv.Itoa(m.self)
	env = append(env[:len(env):len(env)], CommandIDEnv+"="+commandID)
	p := &Process{
		commandID:  commandID,
		Argv:       spec.Argv,
		Dir:        dir,
		Background: spec.Background,
		StartedAt:  time.Now(),
		m:          m,
		stdout:     newCapturedOutput(m.cfg.MaxOutputBytes),
		stderr:     newCapturedOutput(m.cfg.MaxOutputBytes),
		done:       make(chan struct{}),
	}
	path, err := lookPath(spec.Argv[0], pathEnv, dir)
	if err != nil {
		return m.notStarted(p, spec, err), nil
	}
	if spec.PTY {
		err = m.startOnPTY(p, spec, path, env)
	} else {
		err = m.startWithPipes(p, spec, path, env)
	}
	if err != nil {
		var errno syscall.Errno
		if errors.As(err, &errno) && (errno == syscall.ENOENT || errno == syscall.EACCES || errno == syscall.ENOEXEC || errno == syscall.ENOTDIR) {
			// For example a script whose #! interpreter is missing.
			return m.notStarted(p, spec, err), nil
		}
		return nil, fmt.Errorf("start %q: %w", spec.Argv[0], err)
	}
	return p, nil
}

// validateStrings refuses what execve cannot take: NUL bytes in arguments,
// environment or directory, and "=" or an empty name in an env key.
func validateStrings(spec Spec) error {
	for i, arg := range spec.Argv {
		if strings.IndexByte(arg, 0) >= 0 {
			return fmt.Errorf("%w: command[%d] contains a NUL byte", ErrInvalid, i)
		}
	}
	for k, v := range spec.Env {
		if k == "" || strings.ContainsAny(k, "=\x00") || strings.IndexByte(v, 0) >= 0 {
			return fmt.Errorf("%w: env %q: names must be non-empty without '=' or NUL, values without NUL", ErrInvalid, k)
		}
	}
	if strings.IndexByte(spec.Dir, 0) >= 0 {
		return fmt.Errorf("%w: working_dir contains a NUL byte", ErrInvalid)
	}
	return nil
}

func (m *Manager) workingDir(dir string) (string, error) {
	if dir == "" {
		dir = m.cfg.WorkspaceRoot
	} else if !filepath.IsAbs(dir) {
		dir = filepath.Join(m.cfg.WorkspaceRoot, dir)
	}
	info, err := os.Stat(dir)
	if err != nil {
		return "", fmt.Errorf("%w: working_dir %q: %v", ErrInvalid, dir, err)
	}
	if !info.IsDir() {
		return "", fmt.Errorf("%w: working_dir %q is not a directory", ErrInvalid, dir)
	}
	return dir, nil
}

// notStarted finishes p as a shell would for a command it cannot run.
func (m *Manager) notStarted(p *Process, spec Spec, cause error) *Process {
	code, msg := ExitNotFound, "command not found"
	var errno syscall.Errno
	if errors.Is(cause, errNotExecutable) || (errors.As(cause, &errno) && (errno == syscall.EACCES || errno == syscall.ENOEXEC)) {
		code, msg = ExitNotExecutable, "permission denied (not executable)"
	} else if !errors.Is(cause, errNotFound) {
		msg = cause.Error()
	}
	line := "arl-sidecar: " + spec.Argv[0] + ": " + msg + "\n"
	// Not sent to spec.OnOutput: the caller is not reading yet; it finds
	// the message in Output (Pid is 0).
	p.stderr.write([]byte(line))
	p.result = Result{ExitCode: code}
	close(p.done)
	return p
}

func (m *Manager) startWithPipes(p *Process, spec Spec, path string, env []string) error {
	stdoutR, stdoutW, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("stdout pipe: %w", err)
	}
	stderrR, stderrW, err := os.Pipe()
	if err != nil {
		closeAll(stdoutR, stdoutW)
		return fmt.Errorf("stderr pipe: %w", err)
	}
	stdin := m.devNull
	var stdinW *os.File
	if len(spec.Stdin) > 0 || spec.Interactive {
		var stdinR *os.File
		stdinR, stdinW, err = os.Pipe()
		if err != nil {
			closeAll(stdoutR, stdoutW, stderrR, stderrW)
			return fmt.Errorf("stdin pipe: %w", err)
		}
		stdin = stdinR
	}
	attr := &os.ProcAttr{
		Dir:   p.Dir,
		Env:   env,
		Files: []*os.File{stdin, stdoutW, stderrW},
		Sys:   &syscall.SysProcAttr{Setpgid: true},
	}
	err = m.fork(p, path, attr)
	closeAll(stdoutW, stderrW)
	if stdin != m.devNull {
		stdin.Close()
	}
	if err != nil {
		closeAll(stdoutR, stderrR, stdinW)
		return err
	}
	if spec.Interactive {
		p.stdinW = stdinW
	} else if stdinW != nil {
		go feedStdin(stdinW, spec.Stdin)
	}
	m.watch(p, spec, stdoutR, stderrR)
	return nil
}

func (m *Manager) startOnPTY(p *Process, spec Spec, path string, env []string) error {
	ptmx, tty, err := pty.Open()
	if err != nil {
		return fmt.Errorf("open pty: %w", err)
	}
	if spec.Rows > 0 && spec.Cols > 0 {
		if err := pty.Setsize(ptmx, &pty.Winsize{Rows: spec.Rows, Cols: spec.Cols}); err != nil {
			closeAll(ptmx, tty)
			return fmt.Errorf("size pty: %w", err)
		}
	}
	attr := &os.ProcAttr{
		Dir:   p.Dir,
		Env:   env,
		Files: []*os.File{tty, tty, tty},
		Sys:   &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0},
	}
	err = m.fork(p, path, attr)
	tty.Close()
	if err != nil {
		ptmx.Close()
		return err
	}
	p.ptmx = ptmx
	p.stdinW = ptmx
	if len(spec.Stdin) > 0 {
		if _, err := ptmx.Write(spec.Stdin); err != nil {
			m.log.Warn("write initial pty input", "pid", p.Pid, "err", err)
		}
	}
	m.watch(p, spec, ptmx, nil)
	return nil
}

// fork starts the process and registers it before the reaper can look.
func (m *Manager) fork(p *Process, path string, attr *os.ProcAttr) error {
	m.spawnMu.RLock()
	defer m.spawnMu.RUnlock()
	proc, err := os.StartProcess(path, p.Argv, attr)
	if err != nil {
		return err
	}
	p.osProc = proc

	p.Pid = proc.Pid
	m.register(p)
	return nil
}

// watch starts reading the output and enforces the timeout. The exit is
// recorded by finish: inline in Wait for a caller that waits (saving a
// goroutine hand-off on the hot path), otherwise in a goroutine.
func (m *Manager) watch(p *Process, spec Spec, stdoutR, stderrR *os.File) {
	p.readers.Add(1)
	go pump(stdoutR, Stdout, p.stdout, spec.OnOutput, &p.readers)
	p.pipes = []*os.File{stdoutR}
	if stderrR != nil {
		p.readers.Add(1)
		go pump(stderrR, Stderr, p.stderr, spec.OnOutput, &p.readers)
		p.pipes = append(p.pipes, stderrR)
	}
	if spec.Timeout > 0 {
		p.timer = time.AfterFunc(spec.Timeout, func() {
			p.timedOut.Store(true)
			p.m.killTree(p)
		})
	}
	if !spec.CallerWaits {
		go p.finish()
	}
}

// finish waits for the exit, drains the output and records the result.
func (p *Process) finish() {
	state, waitErr := p.osProc.Wait()
	if p.timer != nil {
		p.timer.Stop()
	}
	deadline := time.Now().Add(drainGrace)
	for _, f := range p.pipes {
		_ = f.SetReadDeadline(deadline)
	}
	p.readers.Wait()
	p.stdinMu.Lock()
	if p.stdinW != nil && p.stdinW != p.ptmx {
		p.stdinW.Close()
	}
	p.stdinW = nil
	p.stdinMu.Unlock()
	if p.ptmx != nil {
		p.ptmx.Close()
	}
	p.result = exitResult(state, waitErr)
	p.result.TimedOut = p.timedOut.Load()
	p.result.Duration = time.Since(p.StartedAt)
	_, p.result.StdoutTruncated = p.stdout.snapshot()
	_, p.result.StderrTruncated = p.stderr.snapshot()
	p.m.finished(p)
	close(p.done)
	if p.m.cfg.OnExit != nil {
		p.m.cfg.OnExit(p.result, p.Background)
	}
}

func exitResult(state *os.ProcessState, waitErr error) Result {
	if waitErr != nil || state == nil {
		return Result{ExitCode: -1}
	}
	ws, ok := state.Sys().(syscall.WaitStatus)
	if !ok {
		return Result{ExitCode: state.ExitCode()}
	}
	if ws.Signaled() {
		return Result{ExitCode: 128 + int(ws.Signal()), Signal: signalName(ws.Signal())}
	}
	return Result{ExitCode: ws.ExitStatus()}
}

func pump(r *os.File, stream Stream, out *capturedOutput, onOutput func(Stream, []byte), wg *sync.WaitGroup) {
	defer wg.Done()
	defer r.Close()
	bufp := readBufPool.Get().(*[]byte)
	defer readBufPool.Put(bufp)
	buf := *bufp
	emit := func(data []byte) {
		out.write(data)
		if onOutput != nil {
			onOutput(stream, data)
		}
	}
	for {
		n, err := r.Read(buf)
		if n > 0 {
			emit(buf[:n])
		}
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				// The drain deadline passed, maybe only because this
				// goroutine was not scheduled in time on a busy machine:
				// what the process wrote before it exited is still in the
				// pipe and must not be lost.
				drainBuffered(r, buf, emit)
			}
			return
		}
	}
}

// maxDrain bounds the final drain: a grandchild holding the pipe may keep
// writing for ever.
const maxDrain = 1 << 20

// drainBuffered reads what is already in the pipe without waiting.
func drainBuffered(r *os.File, buf []byte, emit func([]byte)) {
	_ = r.SetReadDeadline(time.Time{})
	rc, err := r.SyscallConn()
	if err != nil {
		return
	}
	for drained := 0; drained < maxDrain; {
		var n int
		var readErr error
		if err := rc.Read(func(fd uintptr) bool {
			n, readErr = syscall.Read(int(fd), buf)
			return true // never wait in the poller
		}); err != nil {
			return
		}
		if n <= 0 || readErr != nil {
			return // EOF, EAGAIN (nothing more buffered) or an error
		}
		emit(buf[:n])
		drained += n
	}
}

func feedStdin(w *os.File, data []byte) {
	defer w.Close()
	_, _ = w.Write(data) // the process may exit without reading: EPIPE is fine
}

func closeAll(files ...*os.File) {
	for _, f := range files {
		if f != nil {
			f.Close()
		}
	}
}
