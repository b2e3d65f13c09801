package files

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"
)

// TestSymlinkSwapRaceNeverEscapes swaps a workspace entry between a real
// directory and a symlink leading outside (renameat2 RENAME_EXCHANGE, as
// fast as the kernel allows) while reading and writing through it: no read
// may return the outside file and no write may land outside, in 10,000
// attempts each.
func TestSymlinkSwapRaceNeverEscapes(t *testing.T) {
	s, root := newStore(t)
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "f"), []byte("SECRET"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(root, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "x", "f"), []byte("inside"), 0o644); err != nil {
		t.Fatal(err)
	}
	rel, err := filepath.Rel(root, outside)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(rel, filepath.Join(root, "y")); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var swaps atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if err := unix.Renameat2(unix.AT_FDCWD, filepath.Join(root, "x"), unix.AT_FDCWD, filepath.Join(root, "y"), unix.RENAME_EXCHANGE); err != nil {
				t.Errorf("swap: %v", err)
				return
			}
			swaps.Add(1)
		}
	}()
	const attempts = 10000
	var readOK, readRefused, writeOK, writeRefused, escapes int
	for i := 0; i < attempts; i++ {
		r, err := s.Read(filepath.Join(root, "x", "f"), 0)
		switch {
		case err == nil && string(r.Content) == "SECRET":
			escapes++
		case err == nil:
			readOK++
		case errors.Is(err, ErrOutside), errors.Is(err, ErrNotFound), errors.Is(err, ErrInvalidPath):
			readRefused++
		default:
			t.Errorf("read: unexpected error %v", err)
		}
		_, err = s.Write(filepath.Join(root, "x", "w"), []byte("w"), 0)
		if err == nil {
			writeOK++
		} else {
			writeRefused++
		}
	}
	close(stop)
	wg.Wait()
	entries, _ := os.ReadDir(outside)
	for _, e := range entries {
		if e.Name() != "f" {
			escapes++
			t.Errorf("written outside: %s", e.Name())
		}
	}
	t.Logf("%d swaps; reads: %d inside, %d refused; writes: %d inside, %d refused; escapes: %d",
		swaps.Load(), readOK, readRefused, writeOK, writeRefused, escapes)
	if escapes != 0 {
		t.Fatalf("%d escapes in %d attempts", escapes, attempts)
	}
	if readOK == 0 || readRefused == 0 || swaps.Load() < 100 {
		t.Fatalf("the race did not alternate (reads inside %d, refused %d, swaps %d)", readOK, readRefused, swaps.Load())
	}
}
