package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestInitBinaryBesideTheNodeElseSelf(t *testing.T) {
	dir := t.TempDir()
	self := filepath.Join(dir, "arl-node")
	if got := initBinary(self); got != self {
		t.Fatalf("without %s: %s, want the node itself", initBinaryName, got)
	}
	init := filepath.Join(dir, initBinaryName)
	if err := os.WriteFile(init, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := initBinary(self); got != self {
		t.Fatalf("with a non-executable %s: %s, want the node itself", initBinaryName, got)
	}
	if err := os.Chmod(init, 0o755); err != nil {
		t.Fatal(err)
	}
	if got := initBinary(self); got != init {
		t.Fatalf("with %s beside the node: %s, want it", initBinaryName, got)
	}
}
