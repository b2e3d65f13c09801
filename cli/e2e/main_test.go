//go:build e2e

// Package e2e drives every kubectl-arl command and the MCP server against a
// real cluster with the ARL operator (the local cluster: `make local-up`,
// KUBECONFIG set). Run: go test -tags e2e ./e2e/ (from cli/).
package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// pool is the WarmPool the suite creates for itself (deleted at the end).
const pool = "cli-pool"

var (
	plugin string // the kubectl-arl binary built for this run (arl beside it)
	// cacheHome is XDG_CACHE_HOME for every process of the run.
	cacheHome string
	kubectl   string
	root      string
)

func TestMain(m *testing.M) {
	code, err := setup(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "cli e2e:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func setup(m *testing.M) (int, error) {
	_, file, _, _ := runtime.Caller(0)
	root = filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
	kubectl = filepath.Join(root, "bin", "kubectl")
	if os.Getenv("KUBECONFIG") == "" {
		return 0, errors.New("KUBECONFIG is not set: start the local cluster (make local-up) and export KUBECONFIG=.state/local/kubeconfig")
	}
	if _, err := os.Stat(kubectl); err != nil {
		return 0, fmt.Errorf("no %s: run make local-up first", kubectl)
	}
	dir, err := os.MkdirTemp("", "kubectl-arl-e2e")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	// The plugin is the lean front and the full CLI beside it, as
	// `make install-plugin` installs them.
	plugin = filepath.Join(dir, "kubectl-arl")
	for _, bin := range []string{"kubectl-arl", "arl"} {
		build := exec.Command("go", "build", "-o", filepath.Join(dir, bin), "./cmd/"+bin)
		if bin == "kubectl-arl" {
			build.Env = append(os.Environ(), "CGO_ENABLED=0") // as make install-plugin: a static front starts faster
		}
		build.Dir = filepath.Join(root, "cli")
		if out, err := build.CombinedOutput(); err != nil {
			return 0, fmt.Errorf("building %s: %v\n%s", bin, err, out)
		}
	}
	// The endpoint cache of this run, not the user's ($XDG_CACHE_HOME/arl).
	cacheHome = filepath.Join(dir, "cache")
	if err := os.Setenv("XDG_CACHE_HOME", cacheHome); err != nil {
		return 0, err
	}
	if out, err := kc("apply", "-f", "-").stdin(poolYAML).run(); err != nil {
		return 0, fmt.Errorf("creating pool %s: %v: %s", pool, err, out)
	}
	if out, err := kc("wait", "--for=jsonpath={.status.readyReplicas}=2", "warmpool/"+pool, "--timeout=180s").run(); err != nil {
		return 0, fmt.Errorf("pool %s not ready: %v: %s", pool, err, out)
	}
	code := m.Run()
	// Nothing left behind: the suite's sandboxes and tasks, then its pool.
	_, _ = kc("delete", "sandbox", "-l", "arl-cli-e2e=true", "--wait=true").run()
	_, _ = kc("delete", "warmpool", pool, "--wait=true").run()
	return code, nil
}

const poolYAML = `apiVersion: arl.infra.io/v1alpha1
kind: WarmPool
metadata:
  name: cli-pool
spec:
  replicas: 2
  template:
    spec:
      containers:
        - name: executor
          image: python:3.9-slim
          command: ["sleep", "infinity"]
          volumeMounts:
            - name: workspace
              mountPath: /workspace
      volumes:
        - name: workspace
          emptyDir: {}
`

// command is a process to run with the test environment.
type command struct {
	cmd *exec.Cmd
}

func kc(args ...string) *command { return &command{cmd: exec.Command(kubectl, args...)} }

// arl runs kubectl-arl.
func arl(args ...string) *command { return &command{cmd: exec.Command(plugin, args...)} }

func (c *command) stdin(s string) *command { c.cmd.Stdin = strings.NewReader(s); return c }

func (c *command) env(kv ...string) *command {
	c.cmd.Env = append(os.Environ(), kv...)
	return c
}

// result is a finished process.
type result struct {
	stdout, stderr string
	code           int
}

// exec runs the process (2 minutes at most) and returns its output and code.
func (c *command) exec(t *testing.T) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	c.cmd.Stdout, c.cmd.Stderr = &stdout, &stderr
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	done := make(chan error, 1)
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- c.cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		_ = c.cmd.Process.Kill()
		t.Fatalf("%v hung: stdout %q stderr %q", c.cmd.Args, stdout.String(), stderr.String())
	}
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{stdout: stdout.String(), stderr: stderr.String(), code: code}
}

// ok runs the process and fails the test unless it exits 0.
func (c *command) ok(t *testing.T) string {
	t.Helper()
	r := c.exec(t)
	if r.code != 0 {
		t.Fatalf("%v: exit %d\nstdout: %s\nstderr: %s", c.cmd.Args, r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

func (c *command) run() (string, error) {
	out, err := c.cmd.CombinedOutput()
	return string(out), err
}

// newSandbox creates a Ready sandbox with the plugin and deletes it at the end.
func newSandbox(t *testing.T, name string) string {
	t.Helper()
	arl("create", name, "--pool", pool, "--wait").ok(t)
	kc("label", "sandbox", name, "arl-cli-e2e=true").ok(t)
	t.Cleanup(func() { _, _ = kc("delete", "sandbox", name, "--ignore-not-found", "--wait=true").run() })
	return name
}
