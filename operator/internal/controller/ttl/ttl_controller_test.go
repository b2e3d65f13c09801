package ttl

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

var seq atomic.Int64

func name(prefix string) string { return fmt.Sprintf("%s-%d", prefix, seq.Add(1)) }

func createTask(t *testing.T, sandbox string, ttl *int32) *arlv1.Task {
	t.Helper()
	task := &arlv1.Task{
		ObjectMeta: metav1.ObjectMeta{Name: name("task"), Namespace: testNamespace},
		Spec: arlv1.TaskSpec{SandboxRef: sandbox, TTLSecondsAfterFinished: ttl,
			Steps: []arlv1.TaskStep{{Name: "s", Type: arlv1.StepTypeCommand, Command: []string{"true"}}}},
	}
	if err := k8s.Create(context.Background(), task); err != nil {
		t.Fatalf("create task: %v", err)
	}
	return task
}

func setTaskState(t *testing.T, task *arlv1.Task, state arlv1.TaskState) {
	t.Helper()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var cur arlv1.Task
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(task), &cur); err != nil {
			return err
		}
		now := metav1.Now()
		cur.Status.State = state
		cur.Status.StartTime = &now
		if state == arlv1.TaskStateSucceeded || state == arlv1.TaskStateFailed {
			cur.Status.CompletionTime = &now
		}
		return k8s.Status().Update(context.Background(), &cur)
	})
	if err != nil {
		t.Fatalf("set task state: %v", err)
	}
}

func createSandbox(t *testing.T, keepAlive bool, idle *int32) *arlv1.Sandbox {
	t.Helper()
	sb := &arlv1.Sandbox{
		ObjectMeta: metav1.ObjectMeta{Name: name("sb"), Namespace: testNamespace},
		Spec:       arlv1.SandboxSpec{PoolRef: "pool", KeepAlive: keepAlive, IdleTimeoutSeconds: idle},
	}
	if err := k8s.Create(context.Background(), sb); err != nil {
		t.Fatalf("create sandbox: %v", err)
	}
	return sb
}

// waitGone waits until obj is deleted and returns how long that took.
func waitGone(t *testing.T, obj client.Object, timeout time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		err := k8s.Get(context.Background(), client.ObjectKeyFromObject(obj), obj)
		if apierrors.IsNotFound(err) {
			return time.Since(start)
		}
		if err != nil {
			t.Fatalf("get %s: %v", obj.GetName(), err)
		}
		if time.Since(start) > timeout {
			t.Fatalf("%T %s still exists after %v", obj, obj.GetName(), timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stillThere fails if obj disappears within d.
func stillThere(t *testing.T, obj client.Object, d time.Duration) {
	t.Helper()
	time.Sleep(d)
	if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(obj), obj); err != nil {
		t.Fatalf("%T %s should still exist: %v", obj, obj.GetName(), err)
	}
}

func hasEvent(t *testing.T, kind, objName, reason string) bool {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		var list eventsv1.EventList
		if err := k8s.List(context.Background(), &list, client.InNamespace(testNamespace)); err != nil {
			t.Fatal(err)
		}
		for _, e := range list.Items {
			if e.Regarding.Kind == kind && e.Regarding.Name == objName && e.Reason == reason {
				return true
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

func TestFinishedTaskIsDeletedAfterItsTTL(t *testing.T) {
	ttl := int32(1)
	task := createTask(t, "keep-sb", &ttl)
	setTaskState(t, task, arlv1.TaskStateSucceeded)
	took := waitGone(t, task, 10*time.Second)
	// completionTime keeps whole seconds: the deletion comes 1-2s after it.
	if took < 500*time.Millisecond {
		t.Fatalf("deleted after %v, before its 1s TTL", took)
	}
}

func TestTaskWithoutTTLOrNotFinishedStays(t *testing.T) {
	ttl := int32(0)
	running := createTask(t, "keep-sb", &ttl)
	setTaskState(t, running, arlv1.TaskStateRunning)
	noTTL := createTask(t, "keep-sb", nil)
	setTaskState(t, noTTL, arlv1.TaskStateFailed)
	stillThere(t, running, 1500*time.Millisecond)
	stillThere(t, noTTL, 0)
}

func TestOneShotSandboxIsDeletedWhenItsTaskFinishes(t *testing.T) {
	sb := createSandbox(t, false, nil)
	stillThere(t, sb, 300*time.Millisecond) // no task yet: kept
	task := createTask(t, sb.Name, nil)
	setTaskState(t, task, arlv1.TaskStateRunning)
	stillThere(t, sb, 500*time.Millisecond)
	setTaskState(t, task, arlv1.TaskStateSucceeded)
	waitGone(t, sb, 5*time.Second)
	if !hasEvent(t, "Sandbox", sb.Name, arlv1.EventReasonOneShotDone) {
		t.Fatal("no OneShotDone event")
	}
}

func TestKeepAliveSandboxWithoutIdleTimeoutStays(t *testing.T) {
	sb := createSandbox(t, true, nil)
	task := createTask(t, sb.Name, nil)
	setTaskState(t, task, arlv1.TaskStateSucceeded)
	stillThere(t, sb, time.Second)
}

func TestIdleSandboxIsDeletedAfterItsIdleTimeout(t *testing.T) {
	idle := int32(1)
	sb := createSandbox(t, true, &idle)
	task := createTask(t, sb.Name, nil)
	setTaskState(t, task, arlv1.TaskStateRunning)
	stillThere(t, sb, 2500*time.Millisecond) // a running task is never idle
	setTaskState(t, task, arlv1.TaskStateSucceeded)
	took := waitGone(t, sb, 10*time.Second)
	if took < 500*time.Millisecond {
		t.Fatalf("deleted %v after its task ended, before its 1s idle timeout", took)
	}
	if !hasEvent(t, "Sandbox", sb.Name, arlv1.EventReasonIdleTimeout) {
		t.Fatal("no IdleTimeout event")
	}
}

// TestTaskDeletedBeforeItsTimeIsWrittenDoesNotExpireItsSandboxEarly: the
// Sandbox controller writes status.lastTaskTime at most once per interval
// (it does not run in this suite, so here the write never comes). A task
// that finished and was deleted by its TTL at once leaves its completion
// time only in the operator's record, and the idle clock counts from it.
func TestTaskDeletedBeforeItsTimeIsWrittenDoesNotExpireItsSandboxEarly(t *testing.T) {
	idle := int32(6)
	sb := createSandbox(t, true, &idle)
	time.Sleep(3 * time.Second) // the idle clock counted from creation is 3s along
	task := createTask(t, sb.Name, ptr[int32](0))
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var cur arlv1.Task
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(task), &cur); err != nil {
			return err
		}
		now := metav1.Now()
		cur.Status = arlv1.TaskStatus{State: arlv1.TaskStateSucceeded, SandboxUID: sb.UID, StartTime: &now, CompletionTime: &now}
		return k8s.Status().Update(context.Background(), &cur)
	})
	if err != nil {
		t.Fatalf("finish the task: %v", err)
	}
	waitGone(t, task, 10*time.Second)
	// Counted from creation the sandbox would be due now (3s + 6s + the
	// stored second); counted from the task's completion, 1.4s or more later.
	stillThere(t, sb, 4500*time.Millisecond)
	waitGone(t, sb, 10*time.Second)
	if !hasEvent(t, "Sandbox", sb.Name, arlv1.EventReasonIdleTimeout) {
		t.Fatal("no IdleTimeout event")
	}
}
