// kubectl, bash and curl, as the manual has the user run them.

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

// KWait runs `kubectl wait --for=jsonpath=...` as the manual does.
func KWait(t testing.TB, obj, path, value string, timeout time.Duration) {
	t.Helper()
	K(t, "wait", "--for=jsonpath={"+path+"}="+value, obj, fmt.Sprintf("--timeout=%s", timeout))
}
