package activity

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

func TestTaskTimesKeepsTheLatestPerSandbox(t *testing.T) {
	a := NewTaskTimes()
	key := types.NamespacedName{Namespace: "ns", Name: "sb"}
	t0 := time.Unix(1000, 0)
	a.Observe(key, "uid-1", t0.Add(2*time.Second))
	a.Observe(key, "uid-1", t0) // older: ignored
	if got := a.Latest(key, "uid-1"); !got.Equal(t0.Add(2 * time.Second)) {
		t.Fatalf("Latest = %v, want %v", got, t0.Add(2*time.Second))
	}
	if got := a.Latest(key, "uid-2"); !got.IsZero() {
		t.Fatalf("a sandbox of the same name with another uid sees %v, want nothing", got)
	}
	a.Observe(key, "uid-2", t0) // the name was reused: the new sandbox starts afresh
	if got := a.Latest(key, "uid-2"); !got.Equal(t0) {
		t.Fatalf("Latest of the new sandbox = %v, want %v", got, t0)
	}
	a.Forget(key)
	if a.Len() != 0 || !a.Latest(key, "uid-2").IsZero() {
		t.Fatal("Forget left the record")
	}
}

func TestNilTaskTimesRecordsNothing(t *testing.T) {
	var a *TaskTimes
	key := types.NamespacedName{Namespace: "ns", Name: "sb"}
	a.Observe(key, "u", time.Now())
	a.Forget(key)
	if !a.Latest(key, "u").IsZero() || a.Len() != 0 {
		t.Fatal("a nil record returned something")
	}
}

func TestObserveTaskRecordsItsLatestTimeForItsSandbox(t *testing.T) {
	a := NewTaskTimes()
	start, done := metav1.Unix(1000, 0), metav1.Unix(1003, 0)
	task := &arlv1.Task{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "t"},
		Spec:       arlv1.TaskSpec{SandboxRef: "sb"},
		Status:     arlv1.TaskStatus{SandboxUID: "uid-1", StartTime: &start, CompletionTime: &done},
	}
	a.ObserveTask(task)
	key := types.NamespacedName{Namespace: "ns", Name: "sb"}
	if got := a.Latest(key, "uid-1"); !got.Equal(done.Time) {
		t.Fatalf("Latest = %v, want the completion time %v", got, done.Time)
	}
	undispatched := task.DeepCopy()
	undispatched.Spec.SandboxRef, undispatched.Status.SandboxUID = "other", ""
	a.ObserveTask(undispatched)
	if a.Len() != 1 {
		t.Fatalf("a task that never reached a sandbox was recorded (%d sandboxes)", a.Len())
	}
}
