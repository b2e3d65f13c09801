package task

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

// newSandbox creates a keepAlive sandbox of the test pool, without status.
func newSandbox(t *testing.T, ns, name string) *arlv1.Sandbox {
	t.Helper()
	sb := &arlv1.Sandbox{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: arlv1.SandboxSpec{PoolRef: testPool, KeepAlive: true}}
	create(t, sb)
	return sb
}

// A Secret named like the sandbox's pod but not made by the operator for
// it (here: no owner reference, no label) is never used: the task fails
// with TokenSecretUntrusted and runs nothing.
func TestSecretTheOperatorDidNotMakeIsNeverUsed(t *testing.T) {
	dir := testDir(t)
	sb := newSandbox(t, testNamespace, uniqueName(t, "sb"))
	pod := podOf(sb)
	create(t, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: pod, Namespace: testNamespace},
		Data:       map[string][]byte{arlv1.SidecarTokenSecretKey: []byte(sidecarToken)},
	})
	setSandboxStatus(t, sb, arlv1.SandboxPhaseReady, pod, dir)
	marker := filepath.Join(dir, "never.log")
	name := uniqueName(t, "task")
	create(t, newTask(testNamespace, name, sb.Name, command("append", "sh", "-c", "echo ran >> "+marker)))
	got := waitFinished(t, testNamespace, name, 10*time.Second)
	if got.Status.State != arlv1.TaskStateFailed || got.Status.Reason != arlv1.TaskReasonTokenSecretUntrusted || got.Status.Attempts != 0 {
		t.Fatalf("state %s reason %s attempts %d (%s); want Failed TokenSecretUntrusted before any attempt", got.Status.State, got.Status.Reason, got.Status.Attempts, got.Status.Message)
	}
	t.Logf("message: %s", got.Status.Message)
	if countLines(t, marker) != 0 {
		t.Fatal("the step ran")
	}
}

// A sandbox status naming a pod another sandbox controls (written by
// someone who may write sandboxes/status) is refused: the task fails with
// SandboxPodMismatch, and neither a step nor that pod's token is sent.
func TestStatusNamingAnotherSandboxsPodIsRefused(t *testing.T) {
	dir := testDir(t)
	victim := createReadySandbox(t, testNamespace, uniqueName(t, "victim"), dir)
	sb := newSandbox(t, testNamespace, uniqueName(t, "sb"))
	setSandboxStatus(t, sb, arlv1.SandboxPhaseReady, podOf(victim), dir)
	marker := filepath.Join(dir, "never.log")
	name := uniqueName(t, "task")
	create(t, newTask(testNamespace, name, sb.Name, command("append", "sh", "-c", "echo ran >> "+marker)))
	got := waitFinished(t, testNamespace, name, 10*time.Second)
	if got.Status.State != arlv1.TaskStateFailed || got.Status.Reason != arlv1.TaskReasonSandboxPodMismatch || got.Status.Attempts != 0 {
		t.Fatalf("state %s reason %s attempts %d (%s); want Failed SandboxPodMismatch", got.Status.State, got.Status.Reason, got.Status.Attempts, got.Status.Message)
	}
	if countLines(t, marker) != 0 {
		t.Fatal("the step ran")
	}
}

// A task dispatched to a sandbox records its uid; when that sandbox is
// deleted and another is created under the same name, the task's remaining
// steps never run there: it fails with SandboxReplaced.
func TestRecreatedSandboxNeverGetsTheOldOnesSteps(t *testing.T) {
	ns := uniqueName(t, "ns")
	ctx := context.Background()
	if err := createFixtures(ctx, ns); err != nil {
		t.Fatal(err)
	}
	dir := testDir(t)
	old := createReadySandbox(t, ns, "sb", dir)
	ctxA, stopA := context.WithCancel(ctx)
	doneA, err := startManager(ctxA, ns)
	if err != nil {
		stopA()
		t.Fatal(err)
	}
	logOf := func(step string) string { return filepath.Join(dir, step+".log") }
	create(t, newTask(ns, "t", old.Name,
		command("a", "sh", "-c", "echo a >> "+logOf("a")+"; sleep 2"),
		command("b", "sh", "-c", "echo b >> "+logOf("b")),
	))
	waitFile(t, logOf("a"), 20*time.Second)
	stopA() // graceful: step a ends and is recorded, the attempt pauses before b
	<-doneA

	var paused arlv1.Task
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "t"}, &paused); err != nil {
		t.Fatal(err)
	}
	if paused.Status.Reason != arlv1.TaskReasonPaused || paused.Status.SandboxUID != old.UID {
		t.Fatalf("after the stop: reason %s sandboxUID %q; want Paused in sandbox %s", paused.Status.Reason, paused.Status.SandboxUID, old.UID)
	}

	if err := k8s.Delete(ctx, old); err != nil {
		t.Fatal(err)
	}
	fresh := &arlv1.Sandbox{ObjectMeta: metav1.ObjectMeta{Name: "sb", Namespace: ns}, Spec: arlv1.SandboxSpec{PoolRef: testPool, KeepAlive: true}}
	create(t, fresh)
	setSandboxStatus(t, fresh, arlv1.SandboxPhaseReady, "sb-2-pod", dir)

	ctxB, stopB := context.WithCancel(ctx)
	doneB, err := startManager(ctxB, ns)
	if err != nil {
		stopB()
		t.Fatal(err)
	}
	defer func() { stopB(); <-doneB }()
	got := waitFinished(t, ns, "t", 20*time.Second)
	if got.Status.State != arlv1.TaskStateFailed || got.Status.Reason != arlv1.TaskReasonSandboxReplaced || got.Status.SandboxUID != old.UID {
		t.Fatalf("state %s reason %s sandboxUID %q (%s); want Failed SandboxReplaced, still bound to %s", got.Status.State, got.Status.Reason, got.Status.SandboxUID, got.Status.Message, old.UID)
	}
	if a, b := countLines(t, logOf("a")), countLines(t, logOf("b")); a != 1 || b != 0 {
		t.Fatalf("step a ran %d times, step b %d times; want 1 and 0", a, b)
	}
}

func waitFile(t *testing.T, path string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for countLines(t, path) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%s not written within %v", path, timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// The Sandbox controller writes the sandbox's status (Ready, its pod)
// before the bind patch that makes the sandbox the pod's controller. A
// task that looks in between waits for the bind and then runs; it does
// not fail.
func TestTaskWaitsForTheBindThatFollowsTheSandboxsStatus(t *testing.T) {
	ctx := context.Background()
	dir := testDir(t)
	sb := newSandbox(t, testNamespace, uniqueName(t, "sb"))
	pod := ensureSandboxPod(t, sb, podOf(sb))
	var pool arlv1.WarmPool
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: testNamespace, Name: testPool}, &pool); err != nil {
		t.Fatal(err)
	}
	setController := func(owner metav1.OwnerReference) {
		t.Helper()
		var live corev1.Pod
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(pod), &live); err != nil {
			t.Fatal(err)
		}
		live.OwnerReferences = []metav1.OwnerReference{owner}
		if err := k8s.Update(ctx, &live); err != nil {
			t.Fatalf("set the controller of pod %s: %v", live.Name, err)
		}
	}
	bound := pod.OwnerReferences[0]
	setController(*metav1.NewControllerRef(&pool, arlv1.GroupVersion.WithKind("WarmPool"))) // still the pool's
	setSandboxStatus(t, sb, arlv1.SandboxPhaseReady, pod.Name, dir)
	marker := filepath.Join(dir, "ran.log")
	name := uniqueName(t, "task")
	create(t, newTask(testNamespace, name, sb.Name, command("append", "sh", "-c", "echo ran >> "+marker)))

	deadline := time.Now().Add(time.Second)
	for time.Now().Before(deadline) {
		var task arlv1.Task
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: testNamespace, Name: name}, &task); err != nil {
			t.Fatal(err)
		}
		if task.IsFinished() {
			t.Fatalf("task finished %s (%s: %s) before its sandbox's pod was bound", task.Status.State, task.Status.Reason, task.Status.Message)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if countLines(t, marker) != 0 {
		t.Fatal("the step ran before the pod was bound")
	}
	setController(bound) // the bind
	got := waitFinished(t, testNamespace, name, 20*time.Second)
	if got.Status.State != arlv1.TaskStateSucceeded || countLines(t, marker) != 1 {
		t.Fatalf("state %s reason %s (%s), step ran %d times; want Succeeded once", got.Status.State, got.Status.Reason, got.Status.Message, countLines(t, marker))
	}
}
