// Package files reads and writes files inside the sandbox's allowed roots:
// absolute paths only, no escape through ".." or symlinks, atomic writes.
package files

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Errors a caller maps to its own codes.
var (
	ErrInvalidPath = errors.New("invalid path")
	ErrOutside     = errors.New("outside the allowed roots")
	ErrNotFound    = errors.New("file not found")
)

// Store confines file access to a set of root directories.
type Store struct {
	roots     []string // cleaned, as given
	realRoots []string // symlinks resolved
	maxRead   int64
}

// NewStore checks the roots exist. maxRead caps ReadFile.
func NewStore(roots []string, maxRead int64) (*Store, error) {
	if len(roots) == 0 {
		return nil, fmt.Errorf("new file store: no allowed roots")
	}
	s := &Store{maxRead: maxRead}
	for _, root := range roots {
		if !filepath.IsAbs(root) {
			return nil, fmt.Errorf("new file store: root %q is not absolute", root)
		}
		real, err := filepath.EvalSymlinks(root)
		if err != nil {
			return nil, fmt.Errorf("new file store: root %q: %w", root, err)
		}
		s.roots = append(s.roots, filepath.Clean(root))
		s.realRoots = append(s.realRoots, real)
	}
	return s, nil
}

// Roots returns the allowed roots.
func (s *Store) Roots() []string { return s.roots }

// resolve checks path and returns it cleaned. The deepest existing ancestor
// of the path (the path itself when it exists and followLast is true) is
// resolved through symlinks and must stay inside a root.
func (s *Store) resolve(path string, followLast bool) (string, error) {
	if path == "" {
		return "", fmt.Errorf("%w: path is empty", ErrInvalidPath)
	}
	if !filepath.IsAbs(path) {
		return "", fmt.Errorf("%w: path %q must be absolute", ErrInvalidPath, path)
	}
	if strings.ContainsRune(path, 0) {
		return "", fmt.Errorf("%w: path %q contains a NUL byte", ErrInvalidPath, path)
	}
	for _, part := range strings.Split(path, "/") {
		if part == ".." {
			return "", fmt.Errorf("%w: path %q must not contain \"..\"", ErrInvalidPath, path)
		}
	}
	clean := filepath.Clean(path)
	if !within(clean, s.roots) {
		return "", fmt.Errorf("path %q is %w %v", path, ErrOutside, s.roots)
	}
	probe := clean
	if !followLast {
		probe = filepath.Dir(clean)
	}
	real, err := evalDeepestExisting(probe)
	if err != nil {
		return "", fmt.Errorf("resolve %q: %w", path, err)
	}
	if !within(real, s.realRoots) {
		return "", fmt.Errorf("path %q resolves through a symlink to %q, %w %v", path, real, ErrOutside, s.roots)
	}
	return clean, nil
}

// evalDeepestExisting resolves the symlinks of the longest existing prefix of
// path and appends the rest unchanged.
func evalDeepestExisting(path string) (string, error) {
	rest := ""
	for p := path; ; p = filepath.Dir(p) {
		real, err := filepath.EvalSymlinks(p)
		if err == nil {
			return filepath.Join(real, rest), nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return "", err
		}
		if p == "/" {
			return "", err
		}
		rest = filepath.Join(filepath.Base(p), rest)
	}
}

func within(path string, roots []string) bool {
	for _, root := range roots {
		if path == root || root == "/" || strings.HasPrefix(path, root+"/") {
			return true
		}
	}
	return false
}
