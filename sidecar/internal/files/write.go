package files

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// DefaultMode is used when a file is written with mode 0.
const DefaultMode fs.FileMode = 0o644

// Write writes content to path atomically (a temp file in the same
// directory, then rename), creating parent directories.
func (s *Store) Write(path string, content []byte, mode fs.FileMode) (string, error) {
	clean, err := s.resolve(path, false)
	if err != nil {
		return "", err
	}
	if mode == 0 {
		mode = DefaultMode
	}
	mode &= fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky
	dir := filepath.Dir(clean)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create parent of %q: %w", path, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(clean)+".arl-tmp-*")
	if err != nil {
		return "", fmt.Errorf("write %q: %w", path, err)
	}
	committed := false
	defer func() {
		if !committed {
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(content); err != nil {
		tmp.Close()
		return "", fmt.Errorf("write %q: %w", path, err)
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return "", fmt.Errorf("chmod %q: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("write %q: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), clean); err != nil {
		return "", fmt.Errorf("rename into %q: %w", path, err)
	}
	committed = true
	return clean, nil
}
