package task

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

// A FilePatch step goes to the sidecar's WriteFiles with its path, and the
// sidecar's refusal fails the task without running the later steps. The
// CRD requires a FilePatch path under /workspace, and this suite's sidecar
// is a local process whose allowed root is a temporary directory, so the
// write is refused here; the quick start's FilePatch then Command on a real
// pod is e2e/manual TestQuickStart, and commands are TestCommandWorkDirAndEnv.
func TestFilePatchGoesToTheSidecar(t *testing.T) {
	dir := testDir(t)
	sb := createReadySandbox(t, testNamespace, uniqueName(t, "sb"), dir)
	name := uniqueName(t, "task")
	create(t, newTask(testNamespace, name, sb.Name,
		filePatch("write-code", "/workspace/hello.sh", "echo hello\n"),
		command("run-code", "sh", "hello.sh"),
	))
	task := waitFinished(t, testNamespace, name, 20*time.Second)

	if task.Status.State != arlv1.TaskStateFailed || task.Status.Reason != arlv1.TaskReasonSidecarError {
		t.Fatalf("state %s (%s: %s), want Failed (SidecarError)", task.Status.State, task.Status.Reason, task.Status.Message)
	}
	if !strings.Contains(task.Status.Stderr, `"/workspace/hello.sh"`) || !strings.Contains(task.Status.Stderr, "outside") {
		t.Fatalf("stderr %q does not carry the sidecar's refusal of /workspace/hello.sh", task.Status.Stderr)
	}
	if got := stepStates(task); got != "write-code=Failed,run-code=Skipped" {
		t.Fatalf("steps = %s", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "hello.sh")); !os.IsNotExist(err) {
		t.Fatalf("hello.sh in the workspace: %v", err)
	}
	waitEvents(t, testNamespace, name, arlv1.EventReasonTaskFailed)
}

func TestCommandWorkDirAndEnv(t *testing.T) {
	dir := testDir(t)
	sub := filepath.Join(dir, "sub")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	sb := createReadySandbox(t, testNamespace, uniqueName(t, "sb"), dir)
	name := uniqueName(t, "task")
	step := command("run", "sh", "-c", `echo "$APP_ENV $VERSION"; pwd`)
	step.WorkDir = sub
	step.Env = map[string]string{"APP_ENV": "production", "VERSION": "1.0.0"}
	create(t, newTask(testNamespace, name, sb.Name, step, command("default-dir", "pwd")))
	task := waitFinished(t, testNamespace, name, 20*time.Second)
	want := "production 1.0.0\n" + sub + "\n" + dir + "\n"
	if task.Status.State != arlv1.TaskStateSucceeded || task.Status.Stdout != want {
		t.Fatalf("state %s stdout %q, want Succeeded and %q", task.Status.State, task.Status.Stdout, want)
	}
}

func TestFailingStepStopsTheRest(t *testing.T) {
	dir := testDir(t)
	sb := createReadySandbox(t, testNamespace, uniqueName(t, "sb"), dir)
	name := uniqueName(t, "task")
	create(t, newTask(testNamespace, name, sb.Name,
		command("check-file", "test", "-f", filepath.Join(dir, "config.json")),
		command("use-file", "cat", filepath.Join(dir, "config.json")),
	))
	task := waitFinished(t, testNamespace, name, 20*time.Second)
	if task.Status.State != arlv1.TaskStateFailed || exitCodeOf(task) != "1" || task.Status.Reason != arlv1.TaskReasonStepFailed {
		t.Fatalf("state %s exit %s reason %s, want Failed 1 StepFailed", task.Status.State, exitCodeOf(task), task.Status.Reason)
	}
	if got := stepStates(task); got != "check-file=Failed,use-file=Skipped" {
		t.Fatalf("steps = %s", got)
	}
	if task.Status.Stderr != "" {
		t.Fatalf("the skipped cat must not have run, stderr %q", task.Status.Stderr)
	}
}

func TestMissingCommandExits127(t *testing.T) {
	sb := createReadySandbox(t, testNamespace, uniqueName(t, "sb"), testDir(t))
	name := uniqueName(t, "task")
	create(t, newTask(testNamespace, name, sb.Name, command("run", "no-such-command-arl-test")))
	task := waitFinished(t, testNamespace, name, 20*time.Second)
	if task.Status.State != arlv1.TaskStateFailed || exitCodeOf(task) != "127" {
		t.Fatalf("state %s exit %s, want Failed 127", task.Status.State, exitCodeOf(task))
	}
	if !strings.Contains(strings.ToLower(task.Status.Stderr), "not found") {
		t.Fatalf("stderr %q should say the command was not found", task.Status.Stderr)
	}
}

func TestTimeoutKillsTheAttempt(t *testing.T) {
	sb := createReadySandbox(t, testNamespace, uniqueName(t, "sb"), testDir(t))
	name := uniqueName(t, "task")
	task := newTask(testNamespace, name, sb.Name, command("sleep", "sleep", "30"), command("after", "true"))
	task.Spec.Timeout = &metav1.Duration{Duration: time.Second}
	start := time.Now()
	create(t, task)
	got := waitFinished(t, testNamespace, name, 15*time.Second)
	took := time.Since(start)
	if got.Status.State != arlv1.TaskStateFailed || got.Status.Reason != arlv1.TaskReasonTimeout {
		t.Fatalf("state %s reason %s (%s), want Failed Timeout", got.Status.State, got.Status.Reason, got.Status.Message)
	}
	if took > 6*time.Second {
		t.Fatalf("a 1s timeout took %v to end the task", took)
	}
	if s := stepStates(got); s != "sleep=Failed,after=Skipped" {
		t.Fatalf("steps = %s", s)
	}
	// An attempt that runs long enough gets its own Started event.
	waitEvents(t, testNamespace, name, arlv1.EventReasonTaskStarted, arlv1.EventReasonTaskStepFailed, arlv1.EventReasonTaskFailed)
}

func TestRetriesRunTheWholeTaskAgain(t *testing.T) {
	dir := testDir(t)
	sb := createReadySandbox(t, testNamespace, uniqueName(t, "sb"), dir)

	t.Run("always failing uses every attempt", func(t *testing.T) {
		log := filepath.Join(dir, "always.log")
		name := uniqueName(t, "task")
		task := newTask(testNamespace, name, sb.Name, command("fail", "sh", "-c", "echo run >> "+log+"; exit 3"))
		task.Spec.Retries = 2
		create(t, task)
		got := waitFinished(t, testNamespace, name, 20*time.Second)
		if got.Status.State != arlv1.TaskStateFailed || got.Status.Attempts != 3 || exitCodeOf(got) != "3" {
			t.Fatalf("state %s attempts %d exit %s, want Failed 3 3", got.Status.State, got.Status.Attempts, exitCodeOf(got))
		}
		if n := countLines(t, log); n != 3 {
			t.Fatalf("the step ran %d times, want 3 (one per attempt)", n)
		}
	})
	t.Run("succeeding on the second attempt stops retrying", func(t *testing.T) {
		log := filepath.Join(dir, "second.log")
		name := uniqueName(t, "task")
		task := newTask(testNamespace, name, sb.Name,
			command("flaky", "sh", "-c", "echo run >> "+log+"; test $(wc -l < "+log+") -ge 2"))
		task.Spec.Retries = 3
		create(t, task)
		got := waitFinished(t, testNamespace, name, 20*time.Second)
		if got.Status.State != arlv1.TaskStateSucceeded || got.Status.Attempts != 2 {
			t.Fatalf("state %s attempts %d, want Succeeded 2", got.Status.State, got.Status.Attempts)
		}
		if n := countLines(t, log); n != 2 {
			t.Fatalf("the step ran %d times, want 2", n)
		}
	})
}

func TestPendingUntilSandboxExistsAndIsReady(t *testing.T) {
	dir := testDir(t)
	sbName := uniqueName(t, "sb")
	name := uniqueName(t, "task")
	create(t, newTask(testNamespace, name, sbName, command("hello", "echo", "hello")))
	waitTask(t, testNamespace, name, 10*time.Second, "Pending with SandboxNotFound", func(task *arlv1.Task) bool {
		return task.Status.State == arlv1.TaskStatePending && task.Status.Reason == arlv1.TaskReasonSandboxNotFound
	})

	sb := &arlv1.Sandbox{
		ObjectMeta: metav1.ObjectMeta{Name: sbName, Namespace: testNamespace},
		Spec:       arlv1.SandboxSpec{PoolRef: testPool, KeepAlive: true},
	}
	create(t, sb)
	setSandboxStatus(t, sb, arlv1.SandboxPhaseBound, podOf(sb), dir)
	waitTask(t, testNamespace, name, 10*time.Second, "Pending with SandboxNotReady", func(task *arlv1.Task) bool {
		return task.Status.State == arlv1.TaskStatePending && task.Status.Reason == arlv1.TaskReasonSandboxNotReady
	})
	// Still not run while the sandbox is only Bound.
	time.Sleep(200 * time.Millisecond)
	var cur arlv1.Task
	if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: testNamespace, Name: name}, &cur); err != nil {
		t.Fatal(err)
	}
	if cur.Status.State != arlv1.TaskStatePending || cur.Status.Attempts != 0 {
		t.Fatalf("task ran before its sandbox was Ready: %+v", cur.Status)
	}

	setSandboxStatus(t, sb, arlv1.SandboxPhaseReady, podOf(sb), dir)
	got := waitFinished(t, testNamespace, name, 10*time.Second)
	if got.Status.State != arlv1.TaskStateSucceeded || got.Status.Stdout != "hello\n" {
		t.Fatalf("state %s stdout %q", got.Status.State, got.Status.Stdout)
	}
}

func TestFailedSandboxFailsWaitingTask(t *testing.T) {
	sb := createReadySandbox(t, testNamespace, uniqueName(t, "sb"), testDir(t))
	setSandboxStatus(t, sb, arlv1.SandboxPhaseFailed, "", "")
	name := uniqueName(t, "task")
	create(t, newTask(testNamespace, name, sb.Name, command("x", "true")))
	got := waitFinished(t, testNamespace, name, 10*time.Second)
	if got.Status.State != arlv1.TaskStateFailed || got.Status.Reason != arlv1.TaskReasonSandboxFailed || got.Status.Attempts != 0 {
		t.Fatalf("state %s reason %s attempts %d", got.Status.State, got.Status.Reason, got.Status.Attempts)
	}
}

// A status write that conflicts after a step ran is re-applied, never
// re-run: the step appends a line, and the file must hold exactly one.
func TestStatusConflictDoesNotRerunTheStep(t *testing.T) {
	dir := testDir(t)
	sb := createReadySandbox(t, testNamespace, uniqueName(t, "sb"), dir)
	log := filepath.Join(dir, "once.log")
	name := uniqueName(t, "task")
	conflictsBefore := testutil.ToFloat64(statusWriteConflicts)
	create(t, newTask(testNamespace, name, sb.Name,
		command("append", "sh", "-c", "echo ran >> "+log+"; sleep 3"),
		command("after", "echo", "done")))

	waitTask(t, testNamespace, name, 10*time.Second, "Running", func(task *arlv1.Task) bool {
		return task.Status.State == arlv1.TaskStateRunning
	})
	// Change the object while the step runs so the worker's resourceVersion
	// is stale when it records the result.
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var cur arlv1.Task
		if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: testNamespace, Name: name}, &cur); err != nil {
			return err
		}
		if cur.Labels == nil {
			cur.Labels = map[string]string{}
		}
		cur.Labels["touched"] = "yes"
		return k8s.Update(context.Background(), &cur)
	})
	if err != nil {
		t.Fatalf("touch task: %v", err)
	}
	got := waitFinished(t, testNamespace, name, 20*time.Second)
	if got.Status.State != arlv1.TaskStateSucceeded || got.Status.Stdout != "done\n" {
		t.Fatalf("state %s stdout %q (%s)", got.Status.State, got.Status.Stdout, got.Status.Message)
	}
	if n := countLines(t, log); n != 1 {
		t.Fatalf("the step ran %d times, want exactly 1", n)
	}
	if testutil.ToFloat64(statusWriteConflicts) <= conflictsBefore {
		t.Fatal("the status write did not meet a conflict: the test proved nothing")
	}
}

// An attempt found Running with a step marked Running, by an operator that
// does not hold it (the one that claimed it crashed), fails and is not run
// again, even with retries left.
func TestInterruptedAttemptFailsWithoutRerun(t *testing.T) {
	dir := testDir(t)
	sbName := uniqueName(t, "sb")
	log := filepath.Join(dir, "never.log")
	name := uniqueName(t, "task")
	task := newTask(testNamespace, name, sbName, command("append", "sh", "-c", "echo ran >> "+log))
	task.Spec.Retries = 3
	create(t, task)
	waitTask(t, testNamespace, name, 10*time.Second, "Pending", func(task *arlv1.Task) bool {
		return task.Status.State == arlv1.TaskStatePending
	})
	// Write what a crashed operator leaves behind: attempt 1 recorded, its
	// step marked Running.
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var cur arlv1.Task
		if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: testNamespace, Name: name}, &cur); err != nil {
			return err
		}
		cur.Status = claimedStatus(&cur, plan{attempt: 1, maxAttempts: 4, podName: "gone-pod", taskStart: time.Now()}, time.Now())
		return k8s.Status().Update(context.Background(), &cur)
	})
	if err != nil {
		t.Fatalf("write a crashed operator's claim: %v", err)
	}
	got := waitFinished(t, testNamespace, name, 10*time.Second)
	if got.Status.State != arlv1.TaskStateFailed || got.Status.Reason != arlv1.TaskReasonOperatorRestarted || got.Status.Attempts != 1 {
		t.Fatalf("state %s reason %s attempts %d", got.Status.State, got.Status.Reason, got.Status.Attempts)
	}
	// Even once its sandbox is Ready, the task stays Failed and the step never runs.
	sb := createReadySandbox(t, testNamespace, sbName, dir)
	_ = sb
	time.Sleep(500 * time.Millisecond)
	var cur arlv1.Task
	if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: testNamespace, Name: name}, &cur); err != nil {
		t.Fatal(err)
	}
	if cur.Status.State != arlv1.TaskStateFailed || countLines(t, log) != 0 {
		t.Fatalf("state %s, step ran %d times; want Failed and 0", cur.Status.State, countLines(t, log))
	}
}

// Twenty one-second tasks finish in far less than twenty seconds: a long
// task does not hold up the others.
func TestConcurrentTasks(t *testing.T) {
	sb := createReadySandbox(t, testNamespace, uniqueName(t, "sb"), testDir(t))
	const n = 20
	names := make([]string, n)
	start := time.Now()
	for i := range n {
		names[i] = uniqueName(t, "task")
		create(t, newTask(testNamespace, names[i], sb.Name, command("work", "sh", "-c", "sleep 1; echo "+strconv.Itoa(i))))
	}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			got := waitFinished(t, testNamespace, names[i], 30*time.Second)
			if got.Status.State != arlv1.TaskStateSucceeded || got.Status.Stdout != strconv.Itoa(i)+"\n" {
				t.Errorf("task %d: state %s stdout %q", i, got.Status.State, got.Status.Stdout)
			}
		})
	}
	wg.Wait()
	if took := time.Since(start); took > 8*time.Second {
		t.Fatalf("%d one-second tasks took %v: they did not run concurrently", n, took)
	} else {
		t.Logf("%d one-second tasks finished in %v", n, took)
	}
}

// The manual's host mode: bash starts a server in the background and
// prints its pid; the task ends as soon as bash exits.
func TestHostModeBackgroundProcess(t *testing.T) {
	sb := createReadySandbox(t, testNamespace, uniqueName(t, "sb"), testDir(t))
	name := uniqueName(t, "task")
	task := newTask(testNamespace, name, sb.Name,
		command("start-server", "bash", "-c", "nohup sleep 60 > /dev/null 2>&1 & echo $!"))
	task.Spec.Timeout = &metav1.Duration{Duration: 10 * time.Second}
	start := time.Now()
	create(t, task)
	got := waitFinished(t, testNamespace, name, 10*time.Second)
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("the task waited %v for its background child", took)
	}
	if got.Status.State != arlv1.TaskStateSucceeded {
		t.Fatalf("state %s: %s", got.Status.State, got.Status.Message)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(got.Status.Stdout))
	if err != nil {
		t.Fatalf("stdout %q is not a pid", got.Status.Stdout)
	}
	if err := syscall.Kill(pid, 0); err != nil {
		t.Fatalf("the background process %d is not running: %v", pid, err)
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
}

func TestOutputIsCappedWithMarker(t *testing.T) {
	sb := createReadySandbox(t, testNamespace, uniqueName(t, "sb"), testDir(t))
	name := uniqueName(t, "task")
	create(t, newTask(testNamespace, name, sb.Name,
		command("spam", "sh", "-c", "head -c 100000 /dev/zero | tr '\\0' x; head -c 50000 /dev/zero | tr '\\0' y >&2")))
	got := waitFinished(t, testNamespace, name, 20*time.Second)
	if got.Status.State != arlv1.TaskStateSucceeded {
		t.Fatalf("state %s: %s", got.Status.State, got.Status.Message)
	}
	wantOut := fmt.Sprintf("[truncated %d bytes;", 100000-DefaultOutputLimitBytes)
	if !strings.HasPrefix(got.Status.Stdout, strings.Repeat("x", DefaultOutputLimitBytes)+"\n...") || !strings.Contains(got.Status.Stdout, wantOut) {
		t.Fatalf("stdout (%d bytes) is not the first %d bytes plus a marker with %q; tail %q", len(got.Status.Stdout), DefaultOutputLimitBytes, wantOut, got.Status.Stdout[len(got.Status.Stdout)-120:])
	}
	if !strings.Contains(got.Status.Stderr, fmt.Sprintf("[truncated %d bytes;", 50000-DefaultOutputLimitBytes)) {
		t.Fatalf("stderr not capped: %d bytes", len(got.Status.Stderr))
	}
	if s := got.Status.Steps[0]; s.StdoutBytes != 100000 || s.StderrBytes != 50000 {
		t.Fatalf("step sizes %d/%d, want the full 100000/50000", s.StdoutBytes, s.StderrBytes)
	}
}

// The operator presents the pod's token: with a wrong one in the Secret,
// the sidecar refuses and nothing runs.
func TestWrongTokenIsRefused(t *testing.T) {
	dir := testDir(t)
	pod := uniqueName(t, "pod")
	create(t, secretFor(t, testNamespace, pod, "not-the-token"))
	sb := &arlv1.Sandbox{
		ObjectMeta: metav1.ObjectMeta{Name: uniqueName(t, "sb"), Namespace: testNamespace},
		Spec:       arlv1.SandboxSpec{PoolRef: testPool, KeepAlive: true},
	}
	create(t, sb)
	setSandboxStatus(t, sb, arlv1.SandboxPhaseReady, pod, dir)
	log := filepath.Join(dir, "never.log")
	name := uniqueName(t, "task")
	create(t, newTask(testNamespace, name, sb.Name, command("append", "sh", "-c", "echo ran >> "+log)))
	got := waitFinished(t, testNamespace, name, 10*time.Second)
	if got.Status.State != arlv1.TaskStateFailed || got.Status.Reason != arlv1.TaskReasonSidecarError || exitCodeOf(got) != strconv.Itoa(int(NoExitCode)) {
		t.Fatalf("state %s reason %s exit %s", got.Status.State, got.Status.Reason, exitCodeOf(got))
	}
	if !strings.Contains(got.Status.Stderr, "unauthenticated") {
		t.Fatalf("stderr %q should say the sidecar refused the token", got.Status.Stderr)
	}
	if countLines(t, log) != 0 {
		t.Fatal("the step ran with a wrong token")
	}
}
