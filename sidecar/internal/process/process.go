package process

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/creack/pty"
)

// Process is one started (or, for a missing command, never started) process.
type Process struct {
	Pid int
	// commandID is put in the process's environment (CommandIDEnv), so its
	// descendants can be found after they leave its tree or group.
	commandID  string
	Argv       []string
	Dir        string
	Background bool
	StartedAt  time.Time

	m        *Manager
	osProc   *os.Process
	stdout   *capturedOutput
	stderr   *capturedOutput
	stdinW   *os.File // interactive stdin (pipe write end or PTY master)
	ptmx     *os.File
	stdinMu  sync.Mutex
	timedOut atomic.Bool
	done     chan struct{}
	result   Result

	readers sync.WaitGroup
	pipes   []*os.File
	timer   *time.Timer
}

// Info is a snapshot of a process's state.
type Info struct {
	Pid        int
	Argv       []string
	Dir        string
	Background bool
	Done       bool
	Result     Result
	StartedAt  time.Time
}

// Done is closed once the process has exited and its output is read.
func (p *Process) Done() <-chan struct{} { return p.done }

// Wait records the exit of a process started with CallerWaits, in the
// caller's goroutine, killing the process group if ctx ends first.
func (p *Process) Wait(ctx context.Context) Result {
	if p.Pid == 0 || p.isDone() {
		return p.Result()
	}
	stop := context.AfterFunc(ctx, p.KillTree)
	defer stop()
	p.finish()
	return p.result
}

// Result is valid once Done is closed.
func (p *Process) Result() Result {
	<-p.done
	return p.result
}

func (p *Process) isDone() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Info returns the current state.
func (p *Process) Info() Info {
	info := Info{Pid: p.Pid, Argv: p.Argv, Dir: p.Dir, Background: p.Background, StartedAt: p.StartedAt}
	if p.isDone() {
		info.Done = true
		info.Result = p.result
	}
	return info
}

// Output returns the kept output and whether each stream was truncated.
func (p *Process) Output() (stdout string, stdoutTruncated bool, stderr string, stderrTruncated bool) {
	stdout, stdoutTruncated = p.stdout.snapshot()
	stderr, stderrTruncated = p.stderr.snapshot()
	return stdout, stdoutTruncated, stderr, stderrTruncated
}

// KillTree kills the process and everything that came from it: its
// process group, its descendants (a setsid'd child included) and the
// orphans reparented to this subreaper that carry its command id (a
// double-forked daemon, one that joined another group).
func (p *Process) KillTree() {
	if p.Pid > 0 {
		p.m.killTree(p)
	}
}

// retainedBytes is the output this process keeps.
func (p *Process) retainedBytes() int {
	return p.stdout.size() + p.stderr.size()
}

// WriteStdin feeds an interactive process.
func (p *Process) WriteStdin(data []byte) error {
	p.stdinMu.Lock()
	defer p.stdinMu.Unlock()
	if p.stdinW == nil {
		return fmt.Errorf("write stdin of process %d: %w: stdin is closed", p.Pid, ErrInvalid)
	}
	if _, err := p.stdinW.Write(data); err != nil {
		return fmt.Errorf("write stdin of process %d: %w", p.Pid, err)
	}
	return nil
}

// CloseStdin ends an interactive process's input; on a PTY it sends the
// terminal's end-of-file character instead (the master stays open for output).
func (p *Process) CloseStdin() error {
	p.stdinMu.Lock()
	defer p.stdinMu.Unlock()
	if p.stdinW == nil {
		return nil
	}
	if p.ptmx != nil {
		_, err := p.ptmx.Write([]byte{4})
		return err
	}
	err := p.stdinW.Close()
	p.stdinW = nil
	return err
}

// Resize changes the PTY window size.
func (p *Process) Resize(rows, cols uint16) error {
	if p.ptmx == nil {
		return fmt.Errorf("resize process %d: %w: not running on a PTY", p.Pid, ErrInvalid)
	}
	if err := pty.Setsize(p.ptmx, &pty.Winsize{Rows: rows, Cols: cols}); err != nil {
		return fmt.Errorf("resize process %d: %w", p.Pid, err)
	}
	return nil
}

// ReleaseOutput drops the kept output once it has been handed out (a
// finished foreground process).
func (p *Process) ReleaseOutput() {
	p.stdout.release()
	p.stderr.release()
}
