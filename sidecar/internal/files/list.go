package files

import (
	"fmt"
	"os"
	"path"
	"sort"
)

// MaxListEntries caps one ListDir answer.
const MaxListEntries = 10000

// List lists the directory p down to depth levels (1: its entries only).
// Symlinked directories are listed as symlinks, not entered. It returns
// the entries sorted by path and whether the cap cut the listing short.
func (s *Store) List(p string, depth int) ([]Info, bool, error) {
	if depth < 1 {
		depth = 1
	}
	loc, err := s.locate(p, aDir)
	if err != nil {
		return nil, false, err
	}
	var out []Info
	truncated, err := listInto(loc.root, loc.rel, loc.path, depth, &out)
	if err != nil {
		return nil, false, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, truncated, nil
}

func listInto(root *os.Root, rel, shown string, depth int, out *[]Info) (bool, error) {
	dir, err := root.Open(rel)
	if err != nil {
		return false, classify("list", shown, err)
	}
	fi, err := dir.Stat()
	if err != nil {
		dir.Close()
		return false, classify("list", shown, err)
	}
	if !fi.IsDir() {
		dir.Close()
		return false, fmt.Errorf("%w: %q is %s, not a directory", ErrInvalidPath, shown, describeType(fi.Mode()))
	}
	names, err := dir.Readdirnames(-1)
	dir.Close()
	if err != nil {
		return false, classify("list", shown, err)
	}
	sort.Strings(names)
	for _, name := range names {
		if len(*out) >= MaxListEntries {
			return true, nil
		}
		childRel, childShown := path.Join(rel, name), path.Join(shown, name)
		// Lstat through the root, not the name the directory was opened by.
		info, err := statAt(root, childRel, childShown)
		if err != nil {
			continue // removed meanwhile
		}
		*out = append(*out, info)
		if info.Type == TypeDir && depth > 1 {
			truncated, err := listInto(root, childRel, childShown, depth-1, out)
			if err != nil || truncated {
				return truncated, err
			}
		}
	}
	return false, nil
}
