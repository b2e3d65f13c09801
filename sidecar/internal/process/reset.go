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
	emptyRounds := 0
	for round := 0; round < 100; round++ {
		targets := m.killTargets()
		if len(targets) == 0 {
			if emptyRounds++; emptyRounds == sweepsToConfirm {
				break
			}
			time.Sleep(time.Millisecond)
			continue
		}
		emptyRounds = 0
		for _, pid := range targets {
			if syscall.Kill(pid, syscall.SIGKILL) == nil {
				killed[pid] = true
			}
		}
		m.mu.Lock()
		for pid := range m.waiting {
			_ = syscall.Kill(-pid, syscall.SIGKILL)
		}
		m.mu.Unlock()
		time.Sleep(10 * time.Millisecond)
		if m.stopReaper != nil {
			m.reapOrphans()
		}
	}
	m.waitForTracked(2 * time.Second)
	m.forgetFinished()
	return len(killed)
}

// killTargets lists the live (not zombie) user processes.
func (m *Manager) killTargets() []int {
	m.mu.Lock()
	skip := make(map[int]bool, len(m.protected))
	for pid := range m.protected {
		skip[pid] = true
	}
	tracked := make([]int, 0, len(m.waiting))
	for pid := range m.waiting {
		tracked = append(tracked, pid)
	}
	m.mu.Unlock()

	var out []int
	seen := map[int]bool{}
	add := func(pid int) {
		if seen[pid] {
			return
		}
		seen[pid] = true
		if st, err := readProcStat(pid); err == nil && st.state != 'Z' {
			out = append(out, pid)
		}
	}
	tree := snapshotTree()
	for _, child := range tree[m.self] {
		if skip[child] {
			continue
		}
		if !m.isWaiting(child) && !m.isOrphan(child) {
			continue // someone else's child in this binary
		}
		add(child)
		for _, d := range tree.descendants(child, skip) {
			add(d)
		}
	}
	for _, pid := range tracked {
		add(pid)
	}
	return out
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
