package manual

import (
	"strings"
	"testing"
	"time"

	"k8s.io/utils/ptr"

	fw "github.com/arl-infra/arl/e2e/framework"
	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

func TestStepTypes(t *testing.T) {
	quickStart(t)
	applyTask(t, "tasks/step-types.yaml", "step-types")
	fw.KWait(t, "task/step-types", ".status.state", "Succeeded", time.Minute)
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
	fw.KWait(t, "task/data-process", ".status.state", "Succeeded", 60*time.Second)
	want := "Processed 2 users\n  - Alice\n  - Bob\n"
	if got := taskField(t, "data-process", ".status.stdout"); got != want {
		t.Errorf("stdout = %q, want %q", got, want)
	}
}

func TestEnvTask(t *testing.T) {
	quickStart(t)
	applyTask(t, "tasks/env-task.yaml", "env-task")
	fw.KWait(t, "task/env-task", ".status.state", "Succeeded", 30*time.Second)
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
	fw.KWait(t, "task/pipeline", ".status.state", "Failed", 120*time.Second)
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
	task := getTask(t, "pipeline")
	failed := false
	for _, step := range []string{"install-deps", "create-script", "run-script", "cleanup"} {
		state := fw.StepState(task, step)
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
	fw.DeleteNoWait(t, fw.Named[arlv1.Task]("cleanup-config"))
	applyTask(t, "tasks/conditional.yaml", "conditional")
	fw.KWait(t, "task/conditional", ".status.state", "Failed", 30*time.Second)
	if code := taskField(t, "conditional", ".status.exitCode"); code != "1" {
		t.Errorf("exitCode = %q, want 1 (test -f)", code)
	}
	if state := fw.StepState(getTask(t, "conditional"), "use-file"); state != "Skipped" && state != "" {
		t.Errorf("use-file has state %q after check-file failed, want Skipped", state)
	}
	waitConditionsLikeAJob(t, "conditional", "Failed", "Complete")
}

func TestRetries(t *testing.T) {
	quickStart(t)
	fw.Delete(t, fw.Named[arlv1.Task]("retries"))
	fw.Recreate(t, fw.Task("reset-attempts", "my-workspace", fw.Command("reset", "rm", "-f", "/workspace/attempts")))
	fw.WaitTask(t, "reset-attempts", arlv1.TaskStateSucceeded, 30*time.Second)
	fw.K(t, "apply", "-f", fw.Example("tasks/retries.yaml"))
	fw.KWait(t, "task/retries", ".status.state", "Succeeded", 60*time.Second)
	if got := getTask(t, "retries").Status.Attempts; got != 3 {
		t.Errorf("attempts = %d, want 3", got)
	}
	if got := taskField(t, "retries", ".status.stdout"); !strings.Contains(got, "attempt 3") {
		t.Errorf("stdout = %q, want the third attempt's output", got)
	}
}

// Tip 1: several tasks share one keepAlive sandbox's /workspace.
func TestKeepAliveSharesWorkspace(t *testing.T) {
	quickStart(t)
	var second *arlv1.Task
	for i, step := range []arlv1.TaskStep{
		fw.FilePatch("write", "/workspace/shared.txt", "from task 1\n"),
		fw.Command("read", "cat", "shared.txt"),
	} {
		name := []string{"keepalive-1", "keepalive-2"}[i]
		fw.Recreate(t, fw.Task(name, "my-workspace", step))
		second = fw.WaitTask(t, name, arlv1.TaskStateSucceeded, 30*time.Second)
	}
	if got := second.Status.Stdout; got != "from task 1\n" {
		t.Errorf("second task read %q", got)
	}
	sb := &arlv1.Sandbox{}
	fw.Get(t, "my-workspace", sb)
	if phase := sb.Status.Phase; phase != arlv1.SandboxPhaseReady {
		t.Errorf("keepAlive sandbox phase after tasks = %q", phase)
	}
}

// FAQ 2: a missing command fails with exit code 127, shown by kubectl get.
func TestFAQCommandNotFound(t *testing.T) {
	quickStart(t)
	fw.Recreate(t, fw.Task("my-task", "my-workspace", fw.Command("missing", "no-such-command-arl")))
	task := fw.WaitTask(t, "my-task", arlv1.TaskStateFailed, 30*time.Second)
	table := fw.K(t, "get", "task", "my-task")
	if !strings.Contains(table, "EXITCODE") || !strings.Contains(table, "Failed") || !strings.Contains(table, "127") {
		t.Errorf("kubectl get task shows:\n%s", table)
	}
	if stderr := task.Status.Stderr; !strings.Contains(stderr, "no-such-command-arl") {
		t.Errorf("stderr = %q, want a not-found message naming the command", stderr)
	}
}

// FAQ 1: a task whose sandbox is not ready stays Pending, then runs.
func TestFAQPendingUntilSandboxReady(t *testing.T) {
	quickStart(t)
	fw.Delete(t, fw.Named[arlv1.Task]("pending-task"))
	fw.Delete(t, fw.Named[arlv1.Sandbox]("late-sandbox"))
	fw.Create(t, fw.Task("pending-task", "late-sandbox", fw.Command("hi", "echo", "ran late")))
	time.Sleep(1500 * time.Millisecond)
	if state := getTask(t, "pending-task").Status.State; state != arlv1.TaskStatePending {
		t.Fatalf("state with no sandbox = %q, want Pending", state)
	}
	if table := fw.K(t, "get", "task", "pending-task"); !strings.Contains(table, "Pending") {
		t.Errorf("kubectl get task shows:\n%s", table)
	}
	fw.Create(t, fw.Sandbox("late-sandbox", "python-pool"))
	if got := fw.WaitTask(t, "pending-task", arlv1.TaskStateSucceeded, time.Minute).Status.Stdout; got != "ran late\n" {
		t.Errorf("stdout = %q", got)
	}
	fw.Delete(t, fw.Named[arlv1.Sandbox]("late-sandbox"))
}

// Tip 2: a one-shot sandbox ends after its task; the task goes after its TTL.
func TestOneShotWithTTL(t *testing.T) {
	quickStart(t)
	fw.Delete(t, fw.Named[arlv1.Task]("one-shot-task"))
	fw.Delete(t, fw.Named[arlv1.Sandbox]("one-shot"))
	fw.K(t, "apply", "-f", fw.Example("tasks/one-shot.yaml"))
	fw.KWait(t, "task/one-shot-task", ".status.state", "Succeeded", time.Minute)
	if got := taskField(t, "one-shot-task", ".status.stdout"); got != "one shot\n" {
		t.Errorf("stdout = %q", got)
	}
	fw.WaitGone(t, fw.Named[arlv1.Sandbox]("one-shot"), 30*time.Second) // keepAlive: false
	fw.DeleteNoWait(t, fw.Named[arlv1.Task]("one-shot-task"))
	ttl := fw.Task("ttl-task", "my-workspace", fw.Command("hi", "true"))
	ttl.Spec.TTLSecondsAfterFinished = ptr.To[int32](1)
	fw.Recreate(t, ttl)
	fw.WaitGone(t, ttl, 30*time.Second) // deleted after its TTL
}
