package main

import (
	"os"
	"path/filepath"
)

// initBinaryName is the small program that plays pod-init and
// container-init (see cmd/arl-node-init), looked for beside arl-node.
const initBinaryName = "arl-node-init"

// initBinary is what the node starts as pod-init and container-init:
// arl-node-init beside the node binary when it is there, else the node
// binary itself (which costs ~30 ms of CPU more per process).
func initBinary(self string) string {
	candidate := filepath.Join(filepath.Dir(self), initBinaryName)
	if st, err := os.Stat(candidate); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
		return candidate
	}
	return self
}
