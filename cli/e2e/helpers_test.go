//go:build e2e

package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func writeSteps(t *testing.T, yaml string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "steps.yaml")
	must(t, os.WriteFile(p, []byte(yaml), 0o644))
	return p
}

func hexOf(b []byte) string { return hex.EncodeToString(b) }

func sumFile(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	must(t, err)
	defer f.Close()
	h := sha256.New()
	_, err = io.Copy(h, f)
	must(t, err)
	return hexOf(h.Sum(nil))
}

// waitUntil retries cond for up to 20 s (state the sidecar reports a moment
// after a signal).
func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 20s")
		}
		time.Sleep(200 * time.Millisecond)
	}
}
