package process

import (
	"syscall"
	"time"
)

// KillAll ends every user process: the process groups this manager started
// and every other descendant (orphans reparented here, processes that left
// their group), except the protected main command and its subtree. It
// returns how many processes it killed.
func (m *Manager) KillAll() int {
	killed := map[int]bool{}
	sweep(100,
		m.killTargets,
		func(pids []int) {
			for _, pid := range pids {
				if syscall.Kill(pid, syscall.SIGKILL) == nil {
					killed[pid] = true
				}
			}
			m.mu.Lock()
			for pid := range m.waiting {
				_ = syscall.Kill(-pid, syscall.SIGKILL)
			}
			m.mu.Unlock()
		},
		func() {
			time.Sleep(10 * time.Millisecond)
			if m.stopReaper != nil {
				m.reapOrphans()
			}
		},
	)
	m.waitForTracked(2 * time.Second)
	m.forgetFinished()
	return len(killed)
}

// killTargets lists the live (not zombie) user processes.
func (m *Manager) killTargets() []int {
	skip := m.protectedSet()
	m.mu.Lock()
	tracked := make([]int, 0, len(m.waiting))
	for pid := range m.waiting {
		tracked = append(tracked, pid)
	}
	m.mu.Unlock()

	tree := snapshotTree()
	found := newLiveSet(tree)
	for _, child := range tree.children[m.self] {
		if skip[child] {
			continue
		}
		if !m.isWaiting(child) && !m.isOrphan(child) {
			continue // someone else's child in this binary
		}
		found.add(child)
		for _, d := range tree.descendants(child, skip) {
			found.add(d)
		}
	}
	for _, pid := range tracked {
		found.add(pid)
	}
	return found.pids
}

func (m *Manager) waitForTracked(limit time.Duration) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		m.mu.Lock()
		n := len(m.waiting)
		m.mu.Unlock()
		if n == 0 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}
