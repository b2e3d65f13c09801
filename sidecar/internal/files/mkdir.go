package files

import (
	"fmt"
	"io/fs"
)

// DefaultDirMode is used when a directory is made with mode 0.
const DefaultDirMode fs.FileMode = 0o755

// MakeDir makes directory p; with parents, missing parents too and an
// existing directory is fine. It reports whether p was created.
func (s *Store) MakeDir(p string, parents bool, mode uint32) (bool, error) {
	if err := checkMode(mode); err != nil {
		return false, err
	}
	fmode := fs.FileMode(mode)
	if fmode == 0 {
		fmode = DefaultDirMode
	}
	loc, err := s.locate(p, aDir)
	if err != nil {
		return false, err
	}
	if loc.rel == "." {
		if parents {
			return false, nil
		}
		return false, fmt.Errorf("make directory %q: it is the allowed root: %w", p, ErrExists)
	}
	existed := false
	if info, err := loc.root.Lstat(loc.rel); err == nil {
		if !info.IsDir() || !parents {
			return false, fmt.Errorf("make directory %q: %s %w", p, describeType(info.Mode()), ErrExists)
		}
		existed = true
	}
	if parents {
		err = loc.root.MkdirAll(loc.rel, fmode)
	} else {
		err = loc.root.Mkdir(loc.rel, fmode)
	}
	if err != nil {
		return false, classify("make directory", p, err)
	}
	if !existed {
		// Mkdir applies the umask; set the asked mode (the directory was just made).
		_ = loc.root.Chmod(loc.rel, fmode)
	}
	return !existed, nil
}
