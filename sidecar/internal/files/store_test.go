package files

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func newStore(t *testing.T) (*Store, string) {
	t.Helper()
	root := t.TempDir()
	s, err := NewStore([]string{root}, 100)
	if err != nil {
		t.Fatal(err)
	}
	return s, root
}

func TestWriteCreatesParentsAtomicallyWithMode(t *testing.T) {
	s, root := newStore(t)
	path := filepath.Join(root, "a/b/c.sh")
	if _, err := s.Write(path, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatalf("Write: %v", err)
	}
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm() != 0o755 {
		t.Fatalf("stat %v mode %v", err, info.Mode())
	}
	if _, err := s.Write(filepath.Join(root, "plain.txt"), []byte("x"), 0); err != nil {
		t.Fatal(err)
	}
	if info, _ := os.Stat(filepath.Join(root, "plain.txt")); info.Mode().Perm() != 0o644 {
		t.Fatalf("default mode %v, want 0644", info.Mode().Perm())
	}
	// Overwrite replaces the content; no temp files are left behind.
	if _, err := s.Write(path, []byte("new"), 0o600); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	entries, _ := os.ReadDir(filepath.Dir(path))
	if string(data) != "new" || len(entries) != 1 {
		t.Fatalf("content %q, %d entries", data, len(entries))
	}
}

func TestPathsAreConfined(t *testing.T) {
	s, root := newStore(t)
	outside := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(root, "escape")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("s"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "secret"), filepath.Join(root, "secret-link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(root, "inner"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("inner", filepath.Join(root, "inner-link")); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		path string
		want error
	}{
		{"relative.txt", ErrInvalidPath},
		{"", ErrInvalidPath},
		{root + "/../etc/passwd", ErrInvalidPath},
		{root + "/a/../../x", ErrInvalidPath},
		{"/etc/passwd", ErrOutside},
		{root + "-sibling/x", ErrOutside},
		{root + "/escape/x", ErrOutside},
		{root + "/escape/new/dir/x", ErrOutside},
	}
	for _, c := range cases {
		if _, err := s.Write(c.path, []byte("x"), 0); !errors.Is(err, c.want) {
			t.Errorf("Write(%q): err = %v, want %v", c.path, err, c.want)
		}
	}
	if _, err := s.Read(root+"/secret-link", 0); !errors.Is(err, ErrOutside) || !strings.Contains(err.Error(), "symlink") {
		t.Errorf("Read through an escaping symlink: %v", err)
	}
	if _, err := os.Stat(filepath.Join(outside, "x")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a file was written outside the root")
	}
	// A relative symlink that stays inside is fine.
	if _, err := s.Write(root+"/inner-link/ok.txt", []byte("ok"), 0); err != nil {
		t.Errorf("Write through an inner symlink: %v", err)
	}
}

func TestReadCapsAndReports(t *testing.T) {
	s, root := newStore(t)
	path := filepath.Join(root, "big")
	if err := os.WriteFile(path, []byte(strings.Repeat("z", 250)), 0o640); err != nil {
		t.Fatal(err)
	}
	r, err := s.Read(path, 0)
	if err != nil || len(r.Content) != 100 || !r.Truncated || r.Size != 250 || r.Mode != 0o640 {
		t.Fatalf("Read: %+v err %v", r, err)
	}
	r, err = s.Read(path, 10)
	if err != nil || len(r.Content) != 10 || !r.Truncated {
		t.Fatalf("Read max 10: %d bytes err %v", len(r.Content), err)
	}
	if _, err := s.Read(filepath.Join(root, "missing"), 0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing: %v", err)
	}
	if _, err := s.Read(root, 0); !errors.Is(err, ErrInvalidPath) {
		t.Fatalf("directory: %v", err)
	}
}

func TestWipeEmptiesButKeepsRoot(t *testing.T) {
	_, root := newStore(t)
	for _, p := range []string{"a/b/c", "d", ".hidden"} {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := Wipe(root); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(root)
	if err != nil || len(entries) != 0 {
		t.Fatalf("root after wipe: %d entries, err %v", len(entries), err)
	}
}
