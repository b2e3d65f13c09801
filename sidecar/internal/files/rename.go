package files

import (
	"errors"
	"fmt"
	"syscall"
)

// Rename moves from to to, both beneath the same allowed root. Without
// overwrite an existing target is refused; with it, a file replaces a file
// and a directory replaces an empty directory.
func (s *Store) Rename(from, to string, overwrite bool) error {
	src, err := s.locate(from, anEntry)
	if err != nil {
		return err
	}
	dst, err := s.locate(to, anEntry)
	if err != nil {
		return err
	}
	if src.root != dst.root {
		return fmt.Errorf("%w: %q and %q are under different allowed roots", ErrInvalidPath, from, to)
	}
	if _, err := src.root.Lstat(src.rel); err != nil {
		return classify("rename", from, err)
	}
	if !overwrite {
		if _, err := dst.root.Lstat(dst.rel); err == nil {
			return fmt.Errorf("rename %q to %q: the target %w (set overwrite to replace it)", from, to, ErrExists)
		}
	}
	if err := src.root.Rename(src.rel, dst.rel); err != nil {
		if errors.Is(err, syscall.EINVAL) {
			return fmt.Errorf("%w: rename %q to %q: a directory cannot move into itself or one of its own subdirectories", ErrInvalidPath, from, to)
		}
		return classify("rename to "+to+" from", from, err)
	}
	return nil
}
