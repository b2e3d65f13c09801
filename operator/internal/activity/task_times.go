// Package activity remembers, for each sandbox, the latest start or
// completion time of its tasks that this operator process has seen.
//
// The Sandbox controller writes status.lastTaskTime at most once per
// interval (--last-task-time-interval), so between two writes, and after a
// task was deleted before the write, the newer time lives only here. The
// Sandbox controller writes it from here, so nothing is lost, and the TTL
// controller counts it in a sandbox's idle time, so no sandbox expires
// early because its status lags.
package activity

import (
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

// TaskTimes is the record, shared by the controllers of one process. The
// zero value is not usable; a nil *TaskTimes records nothing.
type TaskTimes struct {
	mu sync.Mutex
	m  map[types.NamespacedName]seen
}

// seen is the latest task time of the sandbox with uid (a sandbox deleted
// and created again under the same name starts afresh).
type seen struct {
	uid  types.UID
	time time.Time
}

// NewTaskTimes returns an empty record.
func NewTaskTimes() *TaskTimes {
	return &TaskTimes{m: map[types.NamespacedName]seen{}}
}

// Observe records t for the sandbox key with uid, keeping the latest.
func (a *TaskTimes) Observe(key types.NamespacedName, uid types.UID, t time.Time) {
	if a == nil || t.IsZero() {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if s, ok := a.m[key]; ok && s.uid == uid && !t.After(s.time) {
		return
	}
	a.m[key] = seen{uid: uid, time: t}
}

// ObserveTask records the latest of task's start and completion times for
// the sandbox it was dispatched to (status.sandboxUID); a task that never
// reached a sandbox is not recorded.
func (a *TaskTimes) ObserveTask(task *arlv1.Task) {
	if task.Status.SandboxUID == "" || task.Spec.SandboxRef == "" {
		return
	}
	var latest time.Time
	for _, t := range []*metav1.Time{task.Status.StartTime, task.Status.CompletionTime} {
		if t != nil && t.After(latest) {
			latest = t.Time
		}
	}
	a.Observe(types.NamespacedName{Namespace: task.Namespace, Name: task.Spec.SandboxRef}, task.Status.SandboxUID, latest)
}

// Latest is the latest time recorded for the sandbox key with uid; zero
// when none.
func (a *TaskTimes) Latest(key types.NamespacedName, uid types.UID) time.Time {
	if a == nil {
		return time.Time{}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if s, ok := a.m[key]; ok && s.uid == uid {
		return s.time
	}
	return time.Time{}
}

// Forget drops the record of a sandbox that is gone.
func (a *TaskTimes) Forget(key types.NamespacedName) {
	if a == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.m, key)
}

// Len is the number of sandboxes recorded (for tests and metrics).
func (a *TaskTimes) Len() int {
	if a == nil {
		return 0
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.m)
}
