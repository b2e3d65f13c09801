package files

import (
	"errors"
	"fmt"
	"os"
)

// Wipe removes everything inside dir but not dir itself (it is usually a
// mount point). Removal goes through an os.Root, so a symlink planted in
// the workspace is removed, never followed.
func Wipe(dir string) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return fmt.Errorf("wipe %q: %w", dir, err)
	}
	defer root.Close()
	f, err := root.Open(".")
	if err != nil {
		return fmt.Errorf("wipe %q: %w", dir, err)
	}
	names, err := f.Readdirnames(-1)
	f.Close()
	if err != nil {
		return fmt.Errorf("wipe %q: %w", dir, err)
	}
	var errs []error
	for _, name := range names {
		if err := root.RemoveAll(name); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("wipe %q: %w", dir, err)
	}
	return nil
}
