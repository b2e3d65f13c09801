package build

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockKey serialises builds of one target and key across processes sharing
// a binary cache (two worktrees, `make test` beside `make local-up`): the
// second waits for the first and then restores its result, instead of
// compiling the same packages again on the same cores. Go's build cache does
// not deduplicate compilations that are in flight.
func (b *Builder) lockKey(t Target, key string) (func(), error) {
	if b.CacheDir == "" {
		return func() {}, nil
	}
	if err := os.MkdirAll(b.CacheDir, 0o755); err != nil {
		return func() {}, nil // no cache dir: nothing to share, build unlocked
	}
	path := filepath.Join(b.CacheDir, "."+t.Name+"-"+key+".lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open build lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		b.Progress("  %s: another process is building this version; waiting for it (lock %s)", t.Name, path)
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
