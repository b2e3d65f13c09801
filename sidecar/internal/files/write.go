package files

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"syscall"
)

// DefaultMode is used when a file is written with mode 0.
const DefaultMode fs.FileMode = 0o644

// Write writes content to path atomically (a temp file in the same
// directory, then rename), creating parent directories. mode must be
// permission bits only (0 means DefaultMode).
func (s *Store) Write(p string, content []byte, mode uint32) (string, error) {
	paths, err := s.WriteAll([]File{{Path: p, Content: content, Mode: mode}})
	if err != nil {
		return "", err
	}
	return paths[0], nil
}

// AtomicFile is a file being written: its content lands at its path on
// Commit, or never (Abort).
type AtomicFile struct {
	f       *os.File
	root    *os.Root
	tmp     string // relative to root
	rel     string
	path    string // as the caller sees it
	mode    fs.FileMode
	written int64
}

// Create starts an atomic write of path (parents created).
func (s *Store) Create(p string, mode uint32) (*AtomicFile, error) {
	if err := checkMode(mode); err != nil {
		return nil, err
	}
	loc, err := s.locate(p, aFile)
	if err != nil {
		return nil, err
	}
	return createAtomic(loc.root, loc.rel, loc.path, mode)
}

func createAtomic(root *os.Root, rel, shown string, mode uint32) (*AtomicFile, error) {
	fmode := fs.FileMode(mode)
	if fmode == 0 {
		fmode = DefaultMode
	}
	if dir := path.Dir(rel); dir != "." {
		if err := mkdirParents(root, dir, shown); err != nil {
			return nil, err
		}
	}
	if info, err := root.Lstat(rel); err == nil && info.IsDir() {
		return nil, fmt.Errorf("%w: %q is a directory; a file cannot replace it", ErrInvalidPath, shown)
	}
	var suffix [8]byte
	_, _ = rand.Read(suffix[:])
	tmp := path.Join(path.Dir(rel), "."+path.Base(rel)+".arl-tmp-"+hex.EncodeToString(suffix[:]))
	f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, classify("create", shown, err)
	}
	return &AtomicFile{f: f, root: root, tmp: tmp, rel: rel, path: shown, mode: fmode}, nil
}

// Path is the file's cleaned path.
func (a *AtomicFile) Path() string { return a.path }

// Written is the number of bytes written so far.
func (a *AtomicFile) Written() int64 { return a.written }

func (a *AtomicFile) Write(p []byte) (int, error) {
	n, err := a.f.Write(p)
	a.written += int64(n)
	return n, err
}

// ReadFrom copies r into the file.
func (a *AtomicFile) ReadFrom(r io.Reader) (int64, error) {
	n, err := io.Copy(a.f, r)
	a.written += n
	return n, err
}

// Commit sets the mode (fchmod: no umask, no path) and renames the file
// into place.
func (a *AtomicFile) Commit() error {
	if err := a.seal(); err != nil {
		return err
	}
	return a.place()
}

// seal sets the mode and closes the file; on error the file is dropped.
func (a *AtomicFile) seal() error {
	if err := a.f.Chmod(a.mode); err != nil {
		a.Abort()
		return classify("chmod", a.path, err)
	}
	if err := a.f.Close(); err != nil {
		_ = a.root.Remove(a.tmp)
		return classify("write", a.path, err)
	}
	return nil
}

// place renames a sealed file into place; on error the file is dropped.
func (a *AtomicFile) place() error {
	if err := a.root.Rename(a.tmp, a.rel); err != nil {
		_ = a.root.Remove(a.tmp)
		return classify("rename into", a.path, err)
	}
	return nil
}

// Abort drops the file.
func (a *AtomicFile) Abort() {
	_ = a.f.Close()
	_ = a.root.Remove(a.tmp)
}

// mkdirParents makes dir (relative to root) and its parents for the file
// shown; a non-directory in the way is an invalid path, not "exists".
func mkdirParents(root *os.Root, dir, shown string) error {
	err := root.MkdirAll(dir, 0o755)
	if errors.Is(err, fs.ErrExist) || errors.Is(err, syscall.ENOTDIR) {
		return fmt.Errorf("%w: a parent of %q is not a directory", ErrInvalidPath, shown)
	}
	return classify("create parent of", shown, err)
}
