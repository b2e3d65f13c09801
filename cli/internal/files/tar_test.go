package files

import (
	"archive/tar"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestTarRoundTrip(t *testing.T) {
	src := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(src, "a", "b"), 0o755))
	must(t, os.WriteFile(filepath.Join(src, "a", "b", "c.txt"), []byte("hello"), 0o640))
	must(t, os.WriteFile(filepath.Join(src, "run.sh"), []byte("#!/bin/sh\n"), 0o755))
	must(t, os.Symlink("run.sh", filepath.Join(src, "link")))
	var buf bytes.Buffer
	must(t, WriteTar(&buf, src, "top"))
	dst := t.TempDir()
	must(t, ExtractTar(&buf, dst))
	got, err := os.ReadFile(filepath.Join(dst, "top", "a", "b", "c.txt"))
	if err != nil || string(got) != "hello" {
		t.Fatalf("c.txt = %q, %v", got, err)
	}
	info, err := os.Stat(filepath.Join(dst, "top", "run.sh"))
	if err != nil || info.Mode().Perm() != 0o755 {
		t.Fatalf("run.sh mode = %v, %v", info.Mode(), err)
	}
	if target, err := os.Readlink(filepath.Join(dst, "top", "link")); err != nil || target != "run.sh" {
		t.Fatalf("link = %q, %v", target, err)
	}
}

func TestExtractRefusesEscapes(t *testing.T) {
	for _, entries := range [][]tar.Header{
		{{Name: "../evil", Typeflag: tar.TypeReg, Mode: 0o644}},
		{{Name: "/etc/evil", Typeflag: tar.TypeReg, Mode: 0o644}},
		{{Name: "d/", Typeflag: tar.TypeDir, Mode: 0o755}, {Name: "d/l", Typeflag: tar.TypeSymlink, Linkname: "/tmp"}, {Name: "d/l/evil", Typeflag: tar.TypeReg, Mode: 0o644}},
	} {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		for _, h := range entries {
			must(t, tw.WriteHeader(&h))
		}
		must(t, tw.Close())
		err := ExtractTar(&buf, t.TempDir())
		if !errors.Is(err, ErrUnsafePath) {
			t.Errorf("entries %v: err = %v, want ErrUnsafePath", entries[len(entries)-1].Name, err)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestTarWithoutTopEntry(t *testing.T) {
	src := t.TempDir()
	must(t, os.WriteFile(filepath.Join(src, "a.txt"), []byte("a"), 0o644))
	var buf bytes.Buffer
	must(t, WriteTar(&buf, src, ""))
	tr := tar.NewReader(&buf)
	hdr, err := tr.Next()
	if err != nil || hdr.Name != "a.txt" {
		t.Fatalf("first entry %v, %v; want a.txt", hdr, err)
	}
}
