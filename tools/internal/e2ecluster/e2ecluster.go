// Package e2ecluster starts and stops the cluster of one of the tools' end-to-end
// suites (e2elocal, e2erealnode): it builds a fresh arl-local, gives the
// suite a state directory and an instance of its own (ports, bridge, pod
// range), and runs arl-local and kubectl against them.
package e2ecluster

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Cluster is a suite's cluster: where the repository is, the arl-local
// built for the run, and the state directory and instance it runs with.
type Cluster struct {
	Repo     string // repository root
	ArlLocal string // freshly built arl-local
	StateDir string // the cluster's state directory
	Instance int    // arl-local --instance: API server on :6443+Instance
}

// Main is the body of a suite's TestMain (in tools/<suite>): it fails when
// something already listens on the instance's API port, builds arl-local
// into a temporary directory, runs the tests with c filled in, then stops
// whatever they left running (`arl-local down`) and exits with their code.
func Main(m *testing.M, suite string, c *Cluster) {
	code, err := run(m, suite, c)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", suite, err)
		os.Exit(1)
	}
	os.Exit(code)
}

func run(m *testing.M, suite string, c *Cluster) (int, error) {
	wd, err := os.Getwd()
	if err != nil {
		return 0, err
	}
	c.Repo = filepath.Dir(filepath.Dir(wd)) // tools/<suite> -> repo
	if _, err := os.Stat(filepath.Join(c.Repo, "go.work")); err != nil {
		return 0, fmt.Errorf("repository root not found at %s: %w", c.Repo, err)
	}
	if conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", 6443+c.Instance), 200*time.Millisecond); err == nil {
		conn.Close()
		return 0, fmt.Errorf("something already listens on :%d: another run of these tests? (arl-local --instance=%d --state-dir=DIR down stops it)", 6443+c.Instance, c.Instance)
	}
	tmp, err := os.MkdirTemp("", "arl-"+suite+"-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(tmp)
	c.ArlLocal = filepath.Join(tmp, "arl-local")
	build := exec.Command("go", "build", "-o", c.ArlLocal, "./cmd/arl-local")
	build.Dir = filepath.Join(c.Repo, "tools")
	build.Env = append(os.Environ(), "GOWORK=off")
	if out, err := build.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("build arl-local: %w\n%s", err, out)
	}
	c.StateDir = filepath.Join(tmp, "state")
	code := m.Run()
	// Whatever the tests did, leave nothing running.
	if out, err := exec.Command(c.ArlLocal, c.flags("down")...).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "final down: %v\n%s", err, out)
	}
	return code, nil
}

func (c *Cluster) flags(args ...string) []string {
	return append([]string{"--repo=" + c.Repo, "--state-dir=" + c.StateDir, fmt.Sprintf("--instance=%d", c.Instance)}, args...)
}

// Kubeconfig is the cluster's kubeconfig.
func (c *Cluster) Kubeconfig() string { return filepath.Join(c.StateDir, "kubeconfig") }

// Bin is a file of the repository's bin/ (kubectl, ctr, arl-node, ...).
func (c *Cluster) Bin(name string) string { return filepath.Join(c.Repo, "bin", name) }

// Arl runs arl-local against the cluster and returns its output and how
// long it took; it fails the test when arl-local fails.
func (c *Cluster) Arl(t *testing.T, timeout time.Duration, args ...string) (string, time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.ArlLocal, c.flags(args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start)
	if err != nil {
		t.Fatalf("arl-local %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	return out.String(), took
}

// Kubectl runs the bin/kubectl built with the cluster and fails the test
// when it fails.
func (c *Cluster) Kubectl(t *testing.T, args ...string) string {
	t.Helper()
	out, err := c.KubectlErr(args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// KubectlErr runs bin/kubectl and returns its output (stdout and stderr)
// and error.
func (c *Cluster) KubectlErr(args ...string) (string, error) {
	cmd := exec.Command(c.Bin("kubectl"), args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+c.Kubeconfig())
	out, err := cmd.CombinedOutput()
	return string(out), err
}
