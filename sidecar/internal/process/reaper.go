package process

import (
	"os"
	"os/signal"
	"syscall"
	"time"
)

// runReaper reaps orphans reparented to this subreaper. Children this
// process started itself are reaped by their own Wait; so are untracked
// children in this process's own process group (started by other code in
// the same binary, for example a test helper).
func (m *Manager) runReaper() {
	defer close(m.reaperDone)
	sigchld := make(chan os.Signal, 1)
	signal.Notify(sigchld, syscall.SIGCHLD)
	defer signal.Stop(sigchld)
	ticker := time.NewTicker(2 * time.Second)
	defer ticker.Stop()
	for {
		select {
		case <-m.stopReaper:
			return
		case <-sigchld:
		case <-ticker.C:
		}
		m.reapOrphans()
		// Every exit of our own children raises SIGCHLD too; orphans are
		// rare, so scan at most every reapInterval rather than per exit.
		select {
		case <-m.stopReaper:
			return
		case <-time.After(reapInterval):
		}
	}
}

// reapInterval bounds how often the reaper scans for orphans.
const reapInterval = 100 * time.Millisecond

func (m *Manager) reapOrphans() {
	m.spawnMu.Lock()
	defer m.spawnMu.Unlock()
	for _, child := range childrenOf(m.self) {
		if !m.isOrphan(child) {
			continue
		}
		var ws syscall.WaitStatus
		if pid, err := syscall.Wait4(child, &ws, syscall.WNOHANG, nil); err == nil && pid == child {
			m.log.Debug("reaped orphan", "pid", child, "status", int(ws))
		}
	}
}

// isOrphan tells whether a direct child of this process was not started by
// this manager (so it came here by reparenting) and is not someone else's
// to wait for.
func (m *Manager) isOrphan(child int) bool {
	m.mu.Lock()
	tracked := m.waiting[child] || m.protected[child]
	m.mu.Unlock()
	if tracked {
		return false
	}
	if m.cfg.OwnAllChildren {
		return true
	}
	st, err := readProcStat(child)
	if err != nil {
		return false
	}
	return st.pgrp != m.selfPgrp || hasCommandID(child)
}
