// Package manual runs every example of the user manual, as written, against
// the local cluster with the operator installed.
package manual

import (
	"fmt"
	"os"
	"testing"
	"time"

	fw "github.com/arl-infra/arl/e2e/framework"
)

func TestMain(m *testing.M) {
	if err := fw.RequireCluster(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	if err := fw.RequireNode(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// quickStart applies the manual's pool and sandbox once; tests that need
// `my-workspace` call it first.
func quickStart(t *testing.T) {
	t.Helper()
	fw.K(t, "apply", "-f", fw.Example("quickstart/warmpool.yaml"))
	fw.K(t, "apply", "-f", fw.Example("quickstart/sandbox.yaml"))
	fw.WaitFor(t, "sandbox/my-workspace", ".status.phase", "Ready", 2*time.Minute)
}

// applyTask deletes a previous run of the task and applies the file.
func applyTask(t *testing.T, file, name string) {
	t.Helper()
	fw.K(t, "delete", "task", name, "--ignore-not-found", "--wait=true")
	fw.K(t, "apply", "-f", fw.Example(file))
}

func taskField(t *testing.T, name, path string) string {
	t.Helper()
	return fw.JSONPath(t, "task/"+name, path)
}

// stepState is the recorded state of one step ("" when the step has none).
func stepState(t *testing.T, task, step string) string {
	t.Helper()
	return taskField(t, task, `.status.steps[?(@.name=="`+step+`")].state`)
}
