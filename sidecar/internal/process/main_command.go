package process

import (
	"fmt"
	"os"
)

// StartMain starts the agent's main command (the executor's original
// command) with the agent's own stdio. It is protected: Reset and Signal
// leave it alone, and the reaper leaves its exit status to the caller.
func (m *Manager) StartMain(argv []string) (*os.Process, error) {
	if len(argv) == 0 {
		return nil, fmt.Errorf("%w: main command is empty", ErrInvalid)
	}
	env, pathEnv := m.env(nil)
	path, err := lookPath(argv[0], pathEnv, ".")
	if err != nil {
		return nil, fmt.Errorf("main command %q: %w", argv[0], err)
	}
	m.spawnMu.RLock()
	defer m.spawnMu.RUnlock()
	proc, err := os.StartProcess(path, argv, &os.ProcAttr{
		Env:   env,
		Files: []*os.File{os.Stdin, os.Stdout, os.Stderr},
	})
	if err != nil {
		return nil, fmt.Errorf("start main command %q: %w", argv[0], err)
	}
	m.mu.Lock()
	m.protected[proc.Pid] = true
	m.mu.Unlock()
	return proc, nil
}
