package process

import (
	"time"
)

// Spec describes one process to start.
type Spec struct {
	// Argv is the command and its arguments; Argv[0] is looked up in PATH
	// unless it contains a slash. No shell is involved.
	Argv []string
	// Dir is the working directory; empty means the workspace root and a
	// relative path is taken from the workspace root.
	Dir string
	// Env is merged over the manager's base environment.
	Env map[string]string
	// Background processes outlive the request that started them.
	Background bool
	// Timeout kills the whole process group when it expires; 0 means none.
	Timeout time.Duration
	// Stdin is written to the process's stdin, which is then closed.
	Stdin []byte
	// Interactive keeps stdin open for Process.WriteStdin.
	Interactive bool
	// PTY runs the process on a pseudo-terminal (implies Interactive).
	PTY bool
	// Rows and Cols size the pseudo-terminal.
	Rows, Cols uint16
	// CallerWaits: the caller calls Process.Wait, which then records the
	// exit in the caller's goroutine (no extra goroutine).
	CallerWaits bool
	// OnOutput, when set, receives every chunk of output as it is read.
	// The slice is only valid during the call.
	OnOutput func(stream Stream, data []byte)
}

// Stream names an output stream.
type Stream int

const (
	Stdout Stream = 1
	Stderr Stream = 2
)

// Result is the outcome of a finished process.
type Result struct {
	ExitCode        int
	Signal          string
	TimedOut        bool
	Duration        time.Duration
	StdoutTruncated bool
	StderrTruncated bool
}

// Exit codes for commands that could not be started, as a shell reports them.
const (
	ExitNotExecutable = 126
	ExitNotFound      = 127
)
