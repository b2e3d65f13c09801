// Package manual runs every example of the user manual, as written, against
// the local cluster with the operator installed.
package manual

import (
	"fmt"
	"os"
	"testing"
	"time"

	fw "github.com/arl-infra/arl/e2e/framework"
	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
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
// `my-workspace` call it first. It returns the sandbox, Ready.
func quickStart(t *testing.T) *arlv1.Sandbox {
	t.Helper()
	fw.K(t, "apply", "-f", fw.Example("quickstart/warmpool.yaml"))
	fw.K(t, "apply", "-f", fw.Example("quickstart/sandbox.yaml"))
	return fw.WaitSandboxReady(t, "my-workspace", 2*time.Minute)
}

// applyTask deletes a previous run of the task and applies the file.
func applyTask(t *testing.T, file, name string) {
	t.Helper()
	fw.Delete(t, fw.Named[arlv1.Task](name))
	fw.K(t, "apply", "-f", fw.Example(file))
}

// taskField reads a field of a task the way the manual does:
// `kubectl get task NAME -o jsonpath='{PATH}'`.
func taskField(t *testing.T, name, path string) string {
	t.Helper()
	return fw.JSONPath(t, "task/"+name, path)
}

// getTask reads a task through the typed client.
func getTask(t *testing.T, name string) *arlv1.Task {
	t.Helper()
	task := &arlv1.Task{}
	fw.Get(t, name, task)
	return task
}
