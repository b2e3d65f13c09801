package files

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzPath drives every path-taking call with arbitrary paths below (and
// around) a root holding symlinks that lead out: every call either works
// inside the root or fails with one of the package's errors, and nothing
// outside the root is ever created.
func FuzzPath(f *testing.F) {
	for _, seed := range []string{
		"/x", "/a/b/c", "/../etc", "/escape/f", "/escape/../f", "/", "//", "/a/", "/a/./b", "/rel-in/f",
		"/abs/f", "/a\x00b", "relative", "", "/.", "/..", "/a/../../b", "/f/", "/very/deep/a/b/c/d/e/f/g",
	} {
		f.Add(seed, uint8(0))
	}
	// Found by the fuzzer: a directory renamed into itself through a symlink.
	f.Add("/rel-in/0", uint8(7))
	f.Add("/in/sub", uint8(7))
	sentinels := []error{ErrInvalidPath, ErrInvalid, ErrOutside, ErrNotFound, ErrExists, ErrNotEmpty, ErrTooLarge, ErrPermission}
	f.Fuzz(func(t *testing.T, suffix string, op uint8) {
		root := t.TempDir()
		outside := t.TempDir()
		rel, _ := filepath.Rel(root, outside)
		_ = os.Symlink(rel, filepath.Join(root, "escape"))
		_ = os.Symlink(outside, filepath.Join(root, "abs"))
		_ = os.Mkdir(filepath.Join(root, "in"), 0o755)
		_ = os.Symlink("in", filepath.Join(root, "rel-in"))
		s, err := NewStore([]string{root}, 1<<10)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		path := root + suffix
		if len(suffix) > 0 && suffix[0] != '/' {
			path = suffix
		}
		switch op % 8 {
		case 0:
			_, err = s.Write(path, []byte("x"), 0)
		case 1:
			_, err = s.Read(path, 0)
		case 2:
			_, err = s.Stat(path)
		case 3:
			_, _, err = s.List(path, 2)
		case 4:
			_, err = s.MakeDir(path, true, 0)
		case 5:
			err = s.Remove(path, true)
		case 6:
			err = s.Rename(path, root+"/renamed", true)
		case 7:
			err = s.Rename(root+"/in", path, true)
		}
		if err != nil {
			known := false
			for _, e := range sentinels {
				known = known || errors.Is(err, e)
			}
			if !known {
				t.Errorf("op %d on %q: error without a class: %v", op%8, path, err)
			}
		}
		if entries, _ := os.ReadDir(outside); len(entries) != 0 {
			t.Fatalf("op %d on %q changed the outside directory", op%8, path)
		}
	})
}
