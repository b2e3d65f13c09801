// Package framework drives the local cluster the way a user does: with
// kubectl, curl and the manual's YAML files.
package framework

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// RepoRoot is the repository's top directory.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Example returns the path of a file under examples/.
func Example(rel string) string { return filepath.Join(RepoRoot(), "examples", rel) }

// Kubectl is the kubectl of the local cluster (bin/kubectl, built with the
// control plane) unless ARL_KUBECTL names another.
func Kubectl() string {
	if k := os.Getenv("ARL_KUBECTL"); k != "" {
		return k
	}
	return filepath.Join(RepoRoot(), "bin", "kubectl")
}

// Env is the environment for commands: the repo's bin first on PATH, so the
// manual's plain `kubectl` resolves to the local cluster's kubectl.
func Env() []string {
	env := os.Environ()
	env = append(env, "PATH="+filepath.Join(RepoRoot(), "bin")+":"+os.Getenv("PATH"))
	return env
}

// Run runs a command and returns its stdout; stderr is included in the error.
func Run(ctx context.Context, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = Env()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%s %s: %w: %s", filepath.Base(name), strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), nil
}

// Shell runs a bash script with the test environment (bin on PATH).
func Shell(ctx context.Context, script string) (string, error) {
	return Run(ctx, "bash", "-c", script)
}

// K runs kubectl and fails the test on error.
func K(t testing.TB, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := Run(ctx, Kubectl(), args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// KErr runs kubectl and returns its output and error.
func KErr(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	return Run(ctx, Kubectl(), args...)
}

// JSONPath reads one field of an object.
func JSONPath(t testing.TB, obj, path string) string {
	t.Helper()
	return K(t, "get", obj, "-o", "jsonpath={"+path+"}")
}

// WaitFor runs `kubectl wait --for=jsonpath=...` as the manual does.
func WaitFor(t testing.TB, obj, path, value string, timeout time.Duration) {
	t.Helper()
	K(t, "wait", "--for=jsonpath={"+path+"}="+value, obj, fmt.Sprintf("--timeout=%s", timeout))
}

// Eventually polls cond until it holds or the timeout passes.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s", timeout, what)
}

// ApplyYAML applies an inline manifest.
func ApplyYAML(t testing.TB, manifest string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, Kubectl(), "apply", "-f", "-")
	cmd.Env = Env()
	cmd.Stdin = strings.NewReader(manifest)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("kubectl apply: %v: %s", err, out)
	}
}

// RequireCluster fails (never skips) when the local cluster with ARL is not
// reachable, saying how to start it.
func RequireCluster() error {
	if _, err := os.Stat(Kubectl()); err != nil {
		return fmt.Errorf("kubectl not found at %s: run `make local-up` (builds the local cluster) first", Kubectl())
	}
	if os.Getenv("KUBECONFIG") == "" {
		os.Setenv("KUBECONFIG", filepath.Join(RepoRoot(), ".state", "local", "kubeconfig"))
	}
	if _, err := KErr("get", "crd", "tasks.arl.infra.io"); err != nil {
		return fmt.Errorf("the ARL CRDs are not installed in the cluster at KUBECONFIG=%s (%v): run `make local-up` (starts the local cluster and installs the operator)", os.Getenv("KUBECONFIG"), err)
	}
	return nil
}

// NodeEnv selects the node the suite expects: ARL_E2E_NODE=kubelet runs it
// against the real node (kubelet + containerd + runc, `make local-up
// NODE=kubelet`); unset or "process", the process node.
const NodeEnv = "ARL_E2E_NODE"

// RealNode is true when the suite runs against the kubelet node.
func RealNode() bool { return os.Getenv(NodeEnv) == "kubelet" }

// NotOnRealNode skips t on the kubelet node, with the reason. It is the
// only way a manual test is left out there, and every call is listed in
// docs/real-node.md ("The manual's suite on the real node").
func NotOnRealNode(t testing.TB, reason string) {
	t.Helper()
	if RealNode() {
		t.Skipf("not on the real node (docs/real-node.md): %s", reason)
	}
}

// RequireNode fails unless the cluster's nodes are the ones NodeEnv names:
// arl-kubelet Ready for kubelet, arl-node otherwise.
func RequireNode() error {
	want := "arl-node"
	if RealNode() {
		want = "arl-kubelet"
	}
	out, err := KErr("get", "node", want, "-o", `jsonpath={.status.conditions[?(@.type=="Ready")].status}`)
	if err != nil || out != "True" {
		return fmt.Errorf("%s=%q wants node %s Ready in the cluster at KUBECONFIG=%s (got %q, %v): start it with `make local-up NODE=%s`",
			NodeEnv, os.Getenv(NodeEnv), want, os.Getenv("KUBECONFIG"), out, err, map[bool]string{true: "kubelet", false: "process"}[RealNode()])
	}
	return nil
}
