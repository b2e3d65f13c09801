// Package process starts, tracks, signals and ends the user processes of one
// sandbox: argv exec without a shell, one process group per process, capped
// output, timeouts that kill the whole group, and (as a child subreaper)
// reaping of orphaned grandchildren.
package process

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
)

// Config sets the limits and defaults of a Manager.
type Config struct {
	// WorkspaceRoot is the default working directory.
	WorkspaceRoot string
	// MaxOutputBytes caps the kept stdout and, separately, stderr of a process.
	MaxOutputBytes int
	// KeepDone is how many finished processes stay listed.
	KeepDone int
	// MaxRetainedOutputBytes bounds the output kept by finished processes
	// in total (default 64 MiB); past it the oldest finished processes are
	// forgotten first. Reset drops it all.
	MaxRetainedOutputBytes int
	// OwnAllChildren: every child of this process that it did not start is
	// a user orphan (reparented here), whatever its process group. Set in
	// serve and the agent, where nothing else starts children; off, an
	// untracked child counts as an orphan only when it carries a command id
	// or left this process's group (so a test binary's own children are
	// left alone).
	OwnAllChildren bool
	// Subreaper makes this process a child subreaper so orphaned
	// grandchildren (nohup ... &) are reparented to it, stay signalable and
	// are reaped here.
	Subreaper bool
	// OnExit, when set, is called once per finished process.
	OnExit func(result Result, background bool)
	Logger *slog.Logger
}

// Errors a caller maps to its own codes.
var (
	ErrInvalid   = errors.New("invalid request")
	ErrNotFound  = errors.New("process not found")
	ErrNotInTree = errors.New("not in this sandbox's process tree")
	ErrProtected = errors.New("protected process")
)

// Manager owns the user processes.
type Manager struct {
	cfg      Config
	log      *slog.Logger
	self     int
	selfPgrp int
	baseEnv  []string
	basePath string
	devNull  *os.File

	// spawnMu is read-locked around every fork and write-locked by the
	// reaper, so the reaper never sees a child that is not registered yet.
	spawnMu sync.RWMutex

	mu        sync.Mutex
	procs     map[int]*Process // running and recently finished
	doneOrder []int
	waiting   map[int]bool // pids whose os.Process.Wait has not returned
	protected map[int]bool // the agent's main command

	nextCommandID atomic.Uint64

	stopReaper chan struct{}
	reaperDone chan struct{}
}

// NewManager prepares a manager; Close releases it.
func NewManager(cfg Config) (*Manager, error) {
	if cfg.WorkspaceRoot == "" {
		return nil, fmt.Errorf("new process manager: %w: empty workspace root", ErrInvalid)
	}
	if cfg.MaxOutputBytes <= 0 {
		cfg.MaxOutputBytes = 1 << 20
	}
	if cfg.KeepDone <= 0 {
		cfg.KeepDone = 256
	}
	if cfg.MaxRetainedOutputBytes <= 0 {
		cfg.MaxRetainedOutputBytes = 64 << 20
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		return nil, fmt.Errorf("new process manager: open %s: %w", os.DevNull, err)
	}
	m := &Manager{
		cfg:       cfg,
		log:       cfg.Logger,
		self:      os.Getpid(),
		selfPgrp:  syscall.Getpgrp(),
		baseEnv:   os.Environ(),
		basePath:  os.Getenv("PATH"),
		devNull:   devNull,
		procs:     map[int]*Process{},
		waiting:   map[int]bool{},
		protected: map[int]bool{},
	}
	if cfg.Subreaper {
		if err := setChildSubreaper(true); err != nil {
			devNull.Close()
			return nil, fmt.Errorf("new process manager: %w", err)
		}
		m.stopReaper = make(chan struct{})
		m.reaperDone = make(chan struct{})
		go m.runReaper()
	}
	return m, nil
}

// Close kills every user process and stops the reaper.
func (m *Manager) Close() error {
	m.KillAll()
	if m.stopReaper != nil {
		close(m.stopReaper)
		<-m.reaperDone
		if err := setChildSubreaper(false); err != nil {
			m.log.Warn("clear child subreaper", "err", err)
		}
	}
	return m.devNull.Close()
}

// Get returns a running or recently finished process.
func (m *Manager) Get(pid int) (*Process, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.procs[pid]
	return p, ok
}

// List returns the known processes ordered by pid; finished ones only when
// includeDone.
func (m *Manager) List(includeDone bool) []*Process {
	m.mu.Lock()
	out := make([]*Process, 0, len(m.procs))
	for _, p := range m.procs {
		if includeDone || !p.isDone() {
			out = append(out, p)
		}
	}
	m.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Pid < out[j].Pid })
	return out
}

// register records a freshly started process; called with spawnMu read-locked.
func (m *Manager) register(p *Process) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.procs[p.Pid] = p
	m.waiting[p.Pid] = true
}

// finished moves a process to the bounded list of finished ones: at most
// KeepDone of them, holding at most MaxRetainedOutputBytes of output.
func (m *Manager) finished(p *Process) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.waiting, p.Pid)
	m.doneOrder = append(m.doneOrder, p.Pid)
	retained := 0
	for _, pid := range m.doneOrder {
		if q, ok := m.procs[pid]; ok {
			retained += q.retainedBytes()
		}
	}
	for len(m.doneOrder) > 0 && (len(m.doneOrder) > m.cfg.KeepDone || retained > m.cfg.MaxRetainedOutputBytes) {
		oldest := m.doneOrder[0]
		m.doneOrder = m.doneOrder[1:]
		if q, ok := m.procs[oldest]; ok && q.isDone() {
			retained -= q.retainedBytes()
			delete(m.procs, oldest)
		}
	}
}

// RetainedOutputBytes is the output kept by finished processes.
func (m *Manager) RetainedOutputBytes() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, pid := range m.doneOrder {
		if q, ok := m.procs[pid]; ok {
			n += q.retainedBytes()
		}
	}
	return n
}

// forgetFinished drops every finished process and its output (Reset).
func (m *Manager) forgetFinished() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, pid := range m.doneOrder {
		if q, ok := m.procs[pid]; ok && q.isDone() {
			delete(m.procs, pid)
		}
	}
	m.doneOrder = nil
}

func (m *Manager) isWaiting(pid int) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.waiting[pid]
}

// env merges extra over the base environment and returns it with its PATH.
func (m *Manager) env(extra map[string]string) ([]string, string) {
	if len(extra) == 0 {
		return m.baseEnv, m.basePath
	}
	merged := make([]string, 0, len(m.baseEnv)+len(extra))
	for _, kv := range m.baseEnv {
		key, _, _ := strings.Cut(kv, "=")
		if _, overridden := extra[key]; !overridden {
			merged = append(merged, kv)
		}
	}
	path := m.basePath
	for k, v := range extra {
		merged = append(merged, k+"="+v)
		if k == "PATH" {
			path = v
		}
	}
	return merged, path
}

func setChildSubreaper(on bool) error {
	var flag uintptr
	if on {
		flag = 1
	}
	const prSetChildSubreaper = 36
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, flag, 0); errno != 0 {
		return fmt.Errorf("prctl(PR_SET_CHILD_SUBREAPER, %d): %w", flag, errno)
	}
	return nil
}
