package manual

import (
	"strings"
	"testing"
	"time"

	fw "github.com/arl-infra/arl/e2e/framework"
)

func TestStepTypes(t *testing.T) {
	quickStart(t)
	applyTask(t, "tasks/step-types.yaml", "step-types")
	fw.WaitFor(t, "task/step-types", ".status.state", "Succeeded", time.Minute)
	if got := taskField(t, "step-types", ".status.stdout"); got != "Processing data...\n" {
		t.Errorf("stdout = %q", got)
	}
	waitConditionsLikeAJob(t, "step-types", "Complete", "Failed")
}

// waitConditionsLikeAJob checks a finished task's conditions the way a Job's
// are used: `kubectl wait --for=condition=<holds>` returns at once, and
// `--for=condition=<not>` does not (it times out).
func waitConditionsLikeAJob(t *testing.T, task, holds, not string) {
	t.Helper()
	fw.K(t, "wait", "--for=condition="+holds, "task/"+task, "--timeout=10s")
	if out, err := fw.KErr("wait", "--for=condition="+not, "task/"+task, "--timeout=1s"); err == nil {
		t.Errorf("kubectl wait --for=condition=%s task/%s succeeded on a task whose %s holds: %s", not, task, holds, out)
	}
}

func TestDataProcess(t *testing.T) {
	quickStart(t)
	applyTask(t, "tasks/data-process.yaml", "data-process")
	fw.WaitFor(t, "task/data-process", ".status.state", "Succeeded", 60*time.Second)
	want := "Processed 2 users\n  - Alice\n  - Bob\n"
	if got := taskField(t, "data-process", ".status.stdout"); got != want {
		t.Errorf("stdout = %q, want %q", got, want)
	}
}

func TestEnvTask(t *testing.T) {
	quickStart(t)
	applyTask(t, "tasks/env-task.yaml", "env-task")
	fw.WaitFor(t, "task/env-task", ".status.state", "Succeeded", 30*time.Second)
	want := "Environment: production\nVersion: 1.0.0\n"
	if got := taskField(t, "env-task", ".status.stdout"); got != want {
		t.Errorf("stdout = %q, want %q", got, want)
	}
}

// The pipeline needs the internet; offline its pip step must fail cleanly
// and quickly, and the later steps must not run.
func TestPipelineFailsCleanlyOffline(t *testing.T) {
	quickStart(t)
	applyTask(t, "tasks/pipeline.yaml", "pipeline")
	start := time.Now()
	fw.WaitFor(t, "task/pipeline", ".status.state", "Failed", 120*time.Second)
	t.Logf("pipeline failed after %s", time.Since(start).Round(time.Millisecond))
	if code := taskField(t, "pipeline", ".status.exitCode"); code == "0" || code == "" {
		t.Errorf("exitCode = %q, want non-zero", code)
	}
	if stderr := taskField(t, "pipeline", ".status.stderr"); stderr == "" {
		t.Errorf("stderr is empty; want pip's error")
	}
	// Offline, pip fails, or (when requests is already installed on the host)
	// the script's HTTPS call does; every step after the failing one is
	// skipped.
	failed := false
	for _, step := range []string{"install-deps", "create-script", "run-script", "cleanup"} {
		state := stepState(t, "pipeline", step)
		switch {
		case failed && state != "Skipped" && state != "":
			t.Errorf("step %s after the failing one has state %q, want Skipped", step, state)
		case state == "Failed":
			failed = true
			t.Logf("step %s failed offline, as expected", step)
		}
	}
	if !failed {
		t.Errorf("no step of the pipeline is Failed")
	}
}

func TestConditionalSteps(t *testing.T) {
	quickStart(t)
	fw.K(t, "delete", "task", "cleanup-config", "--ignore-not-found")
	applyTask(t, "tasks/conditional.yaml", "conditional")
	fw.WaitFor(t, "task/conditional", ".status.state", "Failed", 30*time.Second)
	if code := taskField(t, "conditional", ".status.exitCode"); code != "1" {
		t.Errorf("exitCode = %q, want 1 (test -f)", code)
	}
	if state := stepState(t, "conditional", "use-file"); state != "Skipped" && state != "" {
		t.Errorf("use-file has state %q after check-file failed, want Skipped", state)
	}
	waitConditionsLikeAJob(t, "conditional", "Failed", "Complete")
}

func TestRetries(t *testing.T) {
	quickStart(t)
	fw.K(t, "delete", "task", "retries", "--ignore-not-found", "--wait=true")
	reset := `apiVersion: arl.infra.io/v1alpha1
kind: Task
metadata:
  name: reset-attempts
spec:
  sandboxRef: my-workspace
  steps:
    - name: reset
      type: Command
      command: ["rm", "-f", "/workspace/attempts"]
`
	fw.K(t, "delete", "task", "reset-attempts", "--ignore-not-found", "--wait=true")
	fw.ApplyYAML(t, reset)
	fw.WaitFor(t, "task/reset-attempts", ".status.state", "Succeeded", 30*time.Second)
	fw.K(t, "apply", "-f", fw.Example("tasks/retries.yaml"))
	fw.WaitFor(t, "task/retries", ".status.state", "Succeeded", 60*time.Second)
	if got := taskField(t, "retries", ".status.attempts"); got != "3" {
		t.Errorf("attempts = %q, want 3", got)
	}
	if got := taskField(t, "retries", ".status.stdout"); !strings.Contains(got, "attempt 3") {
		t.Errorf("stdout = %q, want the third attempt's output", got)
	}
}

// Tip 1: several tasks share one keepAlive sandbox's /workspace.
func TestKeepAliveSharesWorkspace(t *testing.T) {
	quickStart(t)
	for i, step := range []string{
		`{"name":"write","type":"FilePatch","path":"/workspace/shared.txt","content":"from task 1\n"}`,
		`{"name":"read","type":"Command","command":["cat","shared.txt"]}`,
	} {
		name := []string{"keepalive-1", "keepalive-2"}[i]
		fw.K(t, "delete", "task", name, "--ignore-not-found", "--wait=true")
		fw.ApplyYAML(t, `{"apiVersion":"arl.infra.io/v1alpha1","kind":"Task","metadata":{"name":"`+name+`"},"spec":{"sandboxRef":"my-workspace","steps":[`+step+`]}}`)
		fw.WaitFor(t, "task/"+name, ".status.state", "Succeeded", 30*time.Second)
	}
	if got := taskField(t, "keepalive-2", ".status.stdout"); got != "from task 1\n" {
		t.Errorf("second task read %q", got)
	}
	if phase := fw.JSONPath(t, "sandbox/my-workspace", ".status.phase"); phase != "Ready" {
		t.Errorf("keepAlive sandbox phase after tasks = %q", phase)
	}
}

// FAQ 2: a missing command fails with exit code 127, shown by kubectl get.
func TestFAQCommandNotFound(t *testing.T) {
	quickStart(t)
	fw.K(t, "delete", "task", "my-task", "--ignore-not-found", "--wait=true")
	fw.ApplyYAML(t, `apiVersion: arl.infra.io/v1alpha1
kind: Task
metadata:
  name: my-task
spec:
  sandboxRef: my-workspace
  steps:
    - name: missing
      type: Command
      command: ["no-such-command-arl"]
`)
	fw.WaitFor(t, "task/my-task", ".status.state", "Failed", 30*time.Second)
	table := fw.K(t, "get", "task", "my-task")
	if !strings.Contains(table, "EXITCODE") || !strings.Contains(table, "Failed") || !strings.Contains(table, "127") {
		t.Errorf("kubectl get task shows:\n%s", table)
	}
	if stderr := taskField(t, "my-task", ".status.stderr"); !strings.Contains(stderr, "no-such-command-arl") {
		t.Errorf("stderr = %q, want a not-found message naming the command", stderr)
	}
}

// FAQ 1: a task whose sandbox is not ready stays Pending, then runs.
func TestFAQPendingUntilSandboxReady(t *testing.T) {
	quickStart(t)
	fw.K(t, "delete", "task", "pending-task", "--ignore-not-found", "--wait=true")
	fw.K(t, "delete", "sandbox", "late-sandbox", "--ignore-not-found", "--wait=true")
	fw.ApplyYAML(t, `apiVersion: arl.infra.io/v1alpha1
kind: Task
metadata:
  name: pending-task
spec:
  sandboxRef: late-sandbox
  steps:
    - name: hi
      type: Command
      command: ["echo", "ran late"]
`)
	time.Sleep(1500 * time.Millisecond)
	if state := taskField(t, "pending-task", ".status.state"); state != "Pending" {
		t.Fatalf("state with no sandbox = %q, want Pending", state)
	}
	if table := fw.K(t, "get", "task", "pending-task"); !strings.Contains(table, "Pending") {
		t.Errorf("kubectl get task shows:\n%s", table)
	}
	fw.ApplyYAML(t, `apiVersion: arl.infra.io/v1alpha1
kind: Sandbox
metadata:
  name: late-sandbox
spec:
  poolRef: python-pool
  keepAlive: true
`)
	fw.WaitFor(t, "task/pending-task", ".status.state", "Succeeded", time.Minute)
	if got := taskField(t, "pending-task", ".status.stdout"); got != "ran late\n" {
		t.Errorf("stdout = %q", got)
	}
	fw.K(t, "delete", "sandbox", "late-sandbox", "--wait=true")
}

// Tip 2: a one-shot sandbox ends after its task; the task goes after its TTL.
func TestOneShotWithTTL(t *testing.T) {
	quickStart(t)
	fw.K(t, "delete", "-f", fw.Example("tasks/one-shot.yaml"), "--ignore-not-found", "--wait=true")
	fw.K(t, "apply", "-f", fw.Example("tasks/one-shot.yaml"))
	fw.WaitFor(t, "task/one-shot-task", ".status.state", "Succeeded", time.Minute)
	if got := taskField(t, "one-shot-task", ".status.stdout"); got != "one shot\n" {
		t.Errorf("stdout = %q", got)
	}
	fw.Eventually(t, 30*time.Second, "the keepAlive: false sandbox to be deleted", func() bool {
		_, err := fw.KErr("get", "sandbox", "one-shot")
		return err != nil
	})
	fw.K(t, "delete", "task", "one-shot-task", "--ignore-not-found")

	fw.ApplyYAML(t, `apiVersion: arl.infra.io/v1alpha1
kind: Task
metadata:
  name: ttl-task
spec:
  sandboxRef: my-workspace
  ttlSecondsAfterFinished: 1
  steps:
    - name: hi
      type: Command
      command: ["true"]
`)
	fw.Eventually(t, 30*time.Second, "ttl-task to be deleted after its TTL", func() bool {
		_, err := fw.KErr("get", "task", "ttl-task")
		return err != nil
	})
}
