package sandbox

import (
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

// DefaultLastTaskTimeInterval is the default spacing of a sandbox's
// status.lastTaskTime writes (--last-task-time-interval).
const DefaultLastTaskTimeInterval = 10 * time.Second

// idleTimeoutShare caps the spacing at this share of a sandbox's
// idleTimeoutSeconds. Within one operator process the idle clock never
// depends on the status (the TTL controller reads the same in-memory
// record); this bounds what an operator restart can lose: a task deleted
// after its last write and before the restart makes its sandbox expire at
// most a tenth of its idle timeout early.
const idleTimeoutShare = 10

// lastTaskTimeInterval is how far apart sb's lastTaskTime writes are
// spaced. A one-shot sandbox's is written at once: the TTL controller
// deletes it when its task is done, and after an operator restart the
// status is all that says a task ran there.
func lastTaskTimeInterval(sb *arlv1.Sandbox, interval time.Duration) time.Duration {
	if !sb.Spec.KeepAlive || interval <= 0 {
		return 0
	}
	if sb.Spec.IdleTimeoutSeconds != nil {
		interval = min(interval, time.Duration(*sb.Spec.IdleTimeoutSeconds)*time.Second/idleTimeoutShare)
	}
	return interval
}

// lastTaskTimeWrites remembers, per sandbox, when its held-back
// lastTaskTime write is due. A task event for a sandbox with a write due
// wakes nobody: the pass at the due time writes the latest time seen.
type lastTaskTimeWrites struct {
	mu  sync.Mutex
	due map[types.NamespacedName]time.Time
}

func newLastTaskTimeWrites() *lastTaskTimeWrites {
	return &lastTaskTimeWrites{due: map[types.NamespacedName]time.Time{}}
}

// schedule returns when key's write is due, making it now+interval if none
// is scheduled.
func (w *lastTaskTimeWrites) schedule(key types.NamespacedName, now time.Time, interval time.Duration) time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	due, ok := w.due[key]
	if !ok {
		due = now.Add(interval)
		w.due[key] = due
	}
	return due
}

// pending reports whether a write is scheduled for key.
func (w *lastTaskTimeWrites) pending(key types.NamespacedName) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	_, ok := w.due[key]
	return ok
}

// take drops key's schedule: its write happens now (or it is gone).
func (w *lastTaskTimeWrites) take(key types.NamespacedName) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.due, key)
}

// coalesceLastTaskTime holds back a status whose only change is a newer
// lastTaskTime until its write is due; wait > 0 asks for a pass then. So a
// busy sandbox costs one status write per interval, not one per task, and
// the latest time is always written at the end. A status that changes
// anyway carries the newer time at once.
func (r *SandboxReconciler) coalesceLastTaskTime(sb *arlv1.Sandbox, status arlv1.SandboxStatus, now time.Time) (arlv1.SandboxStatus, time.Duration) {
	if sameTime(status.LastTaskTime, sb.Status.LastTaskTime) {
		return status, 0
	}
	key := client.ObjectKeyFromObject(sb)
	held := status
	held.LastTaskTime = sb.Status.LastTaskTime
	if interval := lastTaskTimeInterval(sb, r.LastTaskTimeInterval); interval > 0 && equality.Semantic.DeepEqual(held, sb.Status) {
		if due := r.lastTaskTimes.schedule(key, now, interval); now.Before(due) {
			return held, due.Sub(now)
		}
	}
	// Written now. The schedule is taken before the latest time is read: a
	// task event in between either lands in this write or finds nothing
	// scheduled and wakes the sandbox again.
	r.lastTaskTimes.take(key)
	if t := r.TaskTimes.Latest(key, sb.UID); !t.IsZero() && status.LastTaskTime.Time.Before(t) {
		status.LastTaskTime = &metav1.Time{Time: t}
	}
	return status, 0
}

// sameTime: both unset, or both set to the same instant.
func sameTime(a, b *metav1.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(b)
}

// laterOf is the later of a and b (either may be nil).
func laterOf(a *metav1.Time, b time.Time) *metav1.Time {
	if b.IsZero() || (a != nil && !a.Time.Before(b)) {
		return a
	}
	return &metav1.Time{Time: b}
}
