//go:build e2elocal

package e2elocal

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

var (
	repo     string // repository root
	arlLocal string // freshly built arl-local
	stateDir string // the test cluster's state directory
)

// instance 1 (bridge arl1, pods 10.244.1.0/24, apiserver :6444) runs beside
// the developer's default cluster (instance 0) without touching it.
const (
	instance = 1
	bridge   = "arl1"
)

func TestMain(m *testing.M) {
	code, err := setup(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2elocal:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func setup(m *testing.M) (int, error) {
	wd, err := os.Getwd()
	if err != nil {
		return 0, err
	}
	repo = filepath.Dir(filepath.Dir(wd)) // tools/e2elocal -> repo
	if _, err := os.Stat(filepath.Join(repo, "go.work")); err != nil {
		return 0, fmt.Errorf("repository root not found at %s: %w", repo, err)
	}
	if conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", 6443+instance), 200*time.Millisecond); err == nil {
		conn.Close()
		return 0, fmt.Errorf("something already listens on :%d: another run of these tests? (arl-local --instance=%d --state-dir=DIR down stops it)", 6443+instance, instance)
	}
	tmp, err := os.MkdirTemp("", "arl-e2elocal-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(tmp)
	arlLocal = filepath.Join(tmp, "arl-local")
	build := exec.Command("go", "build", "-o", arlLocal, "./cmd/arl-local")
	build.Dir = filepath.Join(repo, "tools")
	build.Env = append(os.Environ(), "GOWORK=off")
	if out, err := build.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("build arl-local: %w\n%s", err, out)
	}
	stateDir = filepath.Join(tmp, "state")
	code := m.Run()
	// Whatever the tests did, leave nothing running.
	if out, err := exec.Command(arlLocal, "--state-dir="+stateDir, fmt.Sprintf("--instance=%d", instance), "down").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "final down: %v\n%s", err, out)
	}
	return code, nil
}
