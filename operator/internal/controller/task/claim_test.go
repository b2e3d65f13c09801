package task

import (
	"context"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"connectrpc.com/connect"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
	"github.com/arl-infra/arl/operator/internal/sidecarclient"
	sidecarv1 "github.com/arl-infra/arl/proto/gen/arl/sidecar/v1"
)

// startNamespace gives a test its own namespace, fixtures and manager.
func startNamespace(t *testing.T, tune ...func(*Options)) string {
	t.Helper()
	ns := uniqueName(t, "ns")
	ctx, stop := context.WithCancel(context.Background())
	if err := createFixtures(ctx, ns); err != nil {
		stop()
		t.Fatal(err)
	}
	done, err := startManager(ctx, ns, tune...)
	if err != nil {
		stop()
		t.Fatal(err)
	}
	t.Cleanup(func() { stop(); <-done })
	return ns
}

// watchStates records every state a task shows until it finishes.
func watchStates(t *testing.T, ns, name string, start func()) (states []arlv1.TaskState, last *arlv1.Task) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	w, err := k8s.Watch(ctx, &arlv1.TaskList{}, client.InNamespace(ns), client.MatchingFields{"metadata.name": name})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	start()
	for ev := range w.ResultChan() {
		task, ok := ev.Object.(*arlv1.Task)
		if !ok {
			continue
		}
		if n := len(states); n == 0 || states[n-1] != task.Status.State {
			states = append(states, task.Status.State)
		}
		if task.IsFinished() {
			return states, task
		}
	}
	t.Fatalf("task %s did not finish; states seen %v", name, states)
	return nil, nil
}

// An attempt that ends before ClaimDelay is recorded by one status write:
// the task goes from Pending (or new) to Succeeded with everything a
// claimed attempt has.
func TestQuickAttemptIsRecordedInOneWrite(t *testing.T) {
	ns := startNamespace(t, func(o *Options) { o.ClaimDelay = time.Minute })
	sb := createReadySandbox(t, ns, "sb", testDir(t))
	states, task := watchStates(t, ns, "quick", func() {
		create(t, newTask(ns, "quick", sb.Name, command("hello", "echo", "hi")))
	})
	if slices.Contains(states, arlv1.TaskStateRunning) || task.Status.State != arlv1.TaskStateSucceeded {
		t.Fatalf("states %v, want no Running before Succeeded", states)
	}
	st := task.Status
	if st.Attempts != 1 || st.StartTime == nil || st.CompletionTime == nil || st.PodName != podOf(sb) ||
		st.Stdout != "hi\n" || stepStates(task) != "hello=Succeeded" {
		t.Fatalf("status = %+v", st)
	}
}

// An attempt that outlives ClaimDelay shows Running, with its step marked
// Running, before its outcome.
func TestLongAttemptIsClaimedWhileItRuns(t *testing.T) {
	ns := startNamespace(t, func(o *Options) { o.ClaimDelay = 10 * time.Millisecond })
	sb := createReadySandbox(t, ns, "sb", testDir(t))
	states, task := watchStates(t, ns, "long", func() {
		create(t, newTask(ns, "long", sb.Name, command("nap", "sleep", "1"), command("after", "true")))
	})
	if !slices.Contains(states, arlv1.TaskStateRunning) || task.Status.State != arlv1.TaskStateSucceeded || stepStates(task) != "nap=Succeeded,after=Succeeded" {
		t.Fatalf("states %v (want Running then Succeeded), steps %s", states, stepStates(task))
	}
}

// A step that reached the sidecar before the operator could record anything
// (it crashed right after sending it) is not run again: the next operator
// sends the same idempotency key and records the first run's result.
func TestStepSentBeforeACrashIsNotRunAgain(t *testing.T) {
	ns := startNamespace(t)
	dir := testDir(t)
	sb := &arlv1.Sandbox{ObjectMeta: metav1.ObjectMeta{Name: "sb", Namespace: ns}, Spec: arlv1.SandboxSpec{PoolRef: testPool, KeepAlive: true}}
	create(t, sb)
	marker := filepath.Join(dir, "ran")
	step := command("once", "sh", "-c", "echo ran >> "+marker+"; echo first run")
	create(t, newTask(ns, "resent", sb.Name, step))
	task := waitTask(t, ns, "resent", 10*time.Second, "Pending", func(tk *arlv1.Task) bool {
		return tk.Status.State == arlv1.TaskStatePending
	})

	// What the crashed operator sent for attempt 1, step 0.
	pool := sidecarclient.NewPool()
	defer pool.Close()
	req := &sidecarv1.ExecuteRequest{Command: step.Command, WorkingDir: dir, TimeoutSeconds: 30, IdempotencyKey: stepKey(task, 1, 0)}
	first, err := pool.Client("127.0.0.1:"+strconv.Itoa(sidecarPort)).Execute(context.Background(), sidecarclient.WithToken(connect.NewRequest(req), sidecarToken))
	if err != nil || first.Msg.GetStdout() != "first run\n" {
		t.Fatalf("the crashed operator's call: %v %v", first, err)
	}

	setSandboxStatus(t, sb, arlv1.SandboxPhaseReady, podOf(sb), dir)
	done := waitFinished(t, ns, "resent", 20*time.Second)
	if done.Status.State != arlv1.TaskStateSucceeded || done.Status.Stdout != "first run\n" {
		t.Fatalf("task = %s, stdout %q", done.Status.State, done.Status.Stdout)
	}
	if n := countLines(t, marker); n != 1 {
		t.Fatalf("the step ran %d times", n)
	}
}

// A step the sidecar ran for an earlier operator but whose result it no
// longer keeps is not run again, even with retries left: the task fails
// with reason StepResultLost.
func TestStepWhoseResultTheSidecarDroppedFailsWithoutRerun(t *testing.T) {
	port, stop, err := startSidecar(sidecarBin, t.TempDir(), "--idempotency-retention=1ns")
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	ns := startNamespace(t, func(o *Options) { o.SidecarPort = port })
	dir := testDir(t)
	sb := &arlv1.Sandbox{ObjectMeta: metav1.ObjectMeta{Name: "sb", Namespace: ns}, Spec: arlv1.SandboxSpec{PoolRef: testPool, KeepAlive: true}}
	create(t, sb)
	marker := filepath.Join(dir, "ran")
	step := command("once", "sh", "-c", "echo ran >> "+marker)
	task := newTask(ns, "lost", sb.Name, step)
	task.Spec.Retries = 2
	create(t, task)
	task = waitTask(t, ns, "lost", 10*time.Second, "Pending", func(tk *arlv1.Task) bool {
		return tk.Status.State == arlv1.TaskStatePending
	})

	pool := sidecarclient.NewPool()
	defer pool.Close()
	req := &sidecarv1.ExecuteRequest{Command: step.Command, WorkingDir: dir, TimeoutSeconds: 30, IdempotencyKey: stepKey(task, 1, 0)}
	if _, err := pool.Client("127.0.0.1:"+strconv.Itoa(port)).Execute(context.Background(), sidecarclient.WithToken(connect.NewRequest(req), sidecarToken)); err != nil {
		t.Fatalf("the earlier operator's call: %v", err)
	}

	setSandboxStatus(t, sb, arlv1.SandboxPhaseReady, podOf(sb), dir)
	done := waitFinished(t, ns, "lost", 20*time.Second)
	if done.Status.State != arlv1.TaskStateFailed || done.Status.Reason != arlv1.TaskReasonStepResultLost || done.Status.Attempts != 1 {
		t.Fatalf("task = %s reason %s attempts %d (%s), want Failed StepResultLost after 1 attempt", done.Status.State, done.Status.Reason, done.Status.Attempts, done.Status.Message)
	}
	if n := countLines(t, marker); n != 1 {
		t.Fatalf("the step ran %d times", n)
	}
}
