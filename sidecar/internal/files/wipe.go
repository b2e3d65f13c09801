package files

import (
	"fmt"
	"os"
	"path/filepath"
)

// Wipe removes everything inside root but not root itself (it is usually a
// mount point).
func Wipe(root string) error {
	entries, err := os.ReadDir(root)
	if err != nil {
		return fmt.Errorf("wipe %q: %w", root, err)
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(root, e.Name())); err != nil {
			return fmt.Errorf("wipe %q: %w", root, err)
		}
	}
	return nil
}
