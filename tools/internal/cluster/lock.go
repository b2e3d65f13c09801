package cluster

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// errLocked means another arl-local command holds the state directory.
var errLocked = errors.New("state directory locked by another arl-local command")

// lockState takes an exclusive lock on <state>/lock. With wait false it
// fails with errLocked instead of blocking. The returned func releases it.
func lockState(l Layout, wait bool) (func(), error) {
	if err := os.MkdirAll(l.State, 0o755); err != nil {
		return nil, fmt.Errorf("create state dir %s: %w", l.State, err)
	}
	f, err := os.OpenFile(l.File("lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock: %w", err)
	}
	how := syscall.LOCK_EX
	if !wait {
		how |= syscall.LOCK_NB
	}
	if err := syscall.Flock(int(f.Fd()), how); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, errLocked
		}
		return nil, fmt.Errorf("lock %s: %w", l.File("lock"), err)
	}
	return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
}
