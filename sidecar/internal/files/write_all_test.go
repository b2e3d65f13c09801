package files

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteAllWritesEveryFileOrNone(t *testing.T) {
	s, root := newStore(t)
	paths, err := s.WriteAll([]File{
		{Path: root + "/a/one.txt", Content: []byte("1")},
		{Path: root + "/b/two.sh", Content: []byte("#!/bin/sh\n"), Mode: 0o755},
		{Path: root + "/a/one.txt", Content: []byte("again")}, // a later file of the same path wins
	})
	if err != nil {
		t.Fatalf("WriteAll: %v", err)
	}
	if len(paths) != 3 || paths[1] != root+"/b/two.sh" {
		t.Fatalf("paths %v", paths)
	}
	if got, _ := os.ReadFile(filepath.Join(root, "a/one.txt")); string(got) != "again" {
		t.Fatalf("a/one.txt = %q, want the later content", got)
	}
	if info, _ := os.Stat(filepath.Join(root, "b/two.sh")); info == nil || info.Mode().Perm() != 0o755 {
		t.Fatalf("b/two.sh mode: %v", info)
	}

	for name, bad := range map[string]File{
		"a path outside":          {Path: root + "/../elsewhere", Content: []byte("x")},
		"a directory":             {Path: root + "/a", Content: []byte("x")},
		"a setuid mode":           {Path: root + "/c/x", Content: []byte("x"), Mode: 0o4755},
		"a relative path":         {Path: "relative", Content: []byte("x")},
		"a parent that is a file": {Path: root + "/a/one.txt/x", Content: []byte("x")},
	} {
		_, err := s.WriteAll([]File{
			{Path: root + "/new/first.txt", Content: []byte("first")},
			{Path: root + "/a/one.txt", Content: []byte("changed")},
			bad,
		})
		if err == nil {
			t.Fatalf("%s: WriteAll succeeded", name)
		}
		if !errors.Is(err, ErrInvalidPath) && !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrOutside) {
			t.Fatalf("%s: error without a class: %v", name, err)
		}
		if _, err := os.Stat(filepath.Join(root, "new/first.txt")); !os.IsNotExist(err) {
			t.Fatalf("%s: the first file was written although the call failed (%v)", name, err)
		}
		if got, _ := os.ReadFile(filepath.Join(root, "a/one.txt")); string(got) != "again" {
			t.Fatalf("%s: a/one.txt = %q, changed by a failed call", name, got)
		}
	}
	var leftovers []string
	_ = filepath.WalkDir(root, func(p string, d os.DirEntry, _ error) error {
		if d != nil && !d.IsDir() && filepath.Ext(filepath.Base(p)) != ".txt" && filepath.Ext(p) != ".sh" {
			leftovers = append(leftovers, p)
		}
		return nil
	})
	if len(leftovers) != 0 {
		t.Fatalf("temp files left behind: %v", leftovers)
	}
}
