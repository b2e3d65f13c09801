package process

import (
	"errors"
	"fmt"
	"io/fs"
	"syscall"
)

// Signal sends sig to pid, which must belong to this sandbox's process tree:
// a process this manager started, or a descendant of one, or an orphan
// reparented to this subreaper. A process this manager started is signalled
// together with its process group.
func (m *Manager) Signal(pid int, sig syscall.Signal) error {
	if pid <= 0 {
		return fmt.Errorf("%w: pid must be positive, got %d", ErrInvalid, pid)
	}
	if err := m.checkInTree(pid); err != nil {
		return err
	}
	target := pid
	if m.isWaiting(pid) {
		target = -pid
	}
	if err := syscall.Kill(target, sig); err != nil {
		if errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("process %d: %w", pid, ErrNotFound)
		}
		return fmt.Errorf("signal process %d: %w", pid, err)
	}
	return nil
}

// checkInTree walks the parent chain of pid up to a process this manager
// started or to the manager itself.
func (m *Manager) checkInTree(pid int) error {
	if pid == m.self {
		return fmt.Errorf("process %d is the sidecar (or agent) itself: %w", pid, ErrProtected)
	}
	for p, hops := pid, 0; hops < 4096; hops++ {
		m.mu.Lock()
		started, protected := m.waiting[p], m.protected[p]
		m.mu.Unlock()
		if protected {
			return fmt.Errorf("process %d belongs to the sandbox's main command: %w", pid, ErrProtected)
		}
		if started {
			return nil
		}
		st, err := readProcStat(p)
		if err != nil {
			if p == pid && errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("process %d: %w", pid, ErrNotFound)
			}
			return fmt.Errorf("process %d: %w", pid, ErrNotInTree)
		}
		if p == pid && st.state == 'Z' {
			return fmt.Errorf("process %d has already exited: %w", pid, ErrNotFound)
		}
		if st.ppid == m.self {
			return nil
		}
		if st.ppid <= 1 {
			return fmt.Errorf("process %d: %w", pid, ErrNotInTree)
		}
		p = st.ppid
	}
	return fmt.Errorf("process %d: %w", pid, ErrNotInTree)
}
