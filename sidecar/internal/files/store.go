// Package files reads and writes files inside the sandbox's allowed roots.
// Every operation goes through an os.Root opened on each root, so a path is
// resolved by the kernel beneath that root, component by component, at the
// moment of use: no ".." escape, no symlink escape (absolute symlinks and
// symlinks leaving the root are refused), and no race between a check and
// the open, whatever the sandbox's code does to the tree meanwhile.
package files

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Store confines file access to a set of root directories.
type Store struct {
	roots   []confinedRoot // longest path first
	maxRead int64
}

type confinedRoot struct {
	path string // cleaned, as given
	root *os.Root
}

// NewStore opens the roots. maxRead caps Read.
func NewStore(roots []string, maxRead int64) (*Store, error) {
	if len(roots) == 0 {
		return nil, fmt.Errorf("new file store: no allowed roots")
	}
	s := &Store{maxRead: maxRead}
	for _, path := range roots {
		if !filepath.IsAbs(path) {
			s.Close()
			return nil, fmt.Errorf("new file store: root %q is not absolute", path)
		}
		root, err := os.OpenRoot(path)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("new file store: root %q: %w", path, err)
		}
		s.roots = append(s.roots, confinedRoot{path: filepath.Clean(path), root: root})
	}
	// The most specific root wins when roots nest.
	for i := 1; i < len(s.roots); i++ {
		for j := i; j > 0 && len(s.roots[j].path) > len(s.roots[j-1].path); j-- {
			s.roots[j], s.roots[j-1] = s.roots[j-1], s.roots[j]
		}
	}
	return s, nil
}

// Close releases the roots.
func (s *Store) Close() error {
	var errs []error
	for _, r := range s.roots {
		errs = append(errs, r.root.Close())
	}
	return errors.Join(errs...)
}

// Roots returns the allowed roots.
func (s *Store) Roots() []string {
	out := make([]string, len(s.roots))
	for i, r := range s.roots {
		out[i] = r.path
	}
	return out
}

// pathKind says what a path names, for the checks that depend on it.
type pathKind int

const (
	// aFile: a trailing slash or the root itself is an error.
	aFile pathKind = iota
	// aDir: a trailing slash is fine, and so is the root itself.
	aDir
	// anEntry: a trailing slash is fine, the root itself is not (remove, rename).
	anEntry
)

// located is a request path mapped to its root.
type located struct {
	path string   // cleaned absolute path, as the caller sees it
	root *os.Root // the root containing it
	rel  string   // relative to root; "." for the root itself
}

// locate checks path lexically and maps it to the root that contains it.
// Symlinks are not looked at here: the os.Root operations refuse escapes.
func (s *Store) locate(path string, kind pathKind) (located, error) {
	if path == "" {
		return located{}, fmt.Errorf("%w: path is empty", ErrInvalidPath)
	}
	if !filepath.IsAbs(path) {
		return located{}, fmt.Errorf("%w: path %q must be absolute", ErrInvalidPath, path)
	}
	if strings.ContainsRune(path, 0) {
		return located{}, fmt.Errorf("%w: path %q contains a NUL byte", ErrInvalidPath, path)
	}
	for _, part := range strings.Split(path, "/") {
		if part == ".." {
			return located{}, fmt.Errorf("%w: path %q must not contain \"..\"", ErrInvalidPath, path)
		}
	}
	if kind == aFile && len(path) > 1 && strings.HasSuffix(path, "/") {
		return located{}, fmt.Errorf("%w: path %q ends with \"/\", which names a directory, not a file", ErrInvalidPath, path)
	}
	clean := filepath.Clean(path)
	for _, r := range s.roots {
		rel, ok := relativeTo(clean, r.path)
		if !ok {
			continue
		}
		if rel == "." && kind != aDir {
			return located{}, fmt.Errorf("%w: %q is the allowed root itself, not a file inside it", ErrInvalidPath, path)
		}
		return located{path: clean, root: r.root, rel: rel}, nil
	}
	return located{}, fmt.Errorf("path %q is %w %v", path, ErrOutside, s.Roots())
}

// relativeTo returns path relative to root when path is root or beneath it.
func relativeTo(path, root string) (string, bool) {
	switch {
	case path == root:
		return ".", true
	case root == "/":
		return strings.TrimPrefix(path, "/"), true
	case strings.HasPrefix(path, root+"/"):
		return path[len(root)+1:], true
	}
	return "", false
}
