package ttl

import (
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

// secondPrecisionRoundingUp: stored timestamps keep whole seconds.
const secondPrecisionRoundingUp = time.Second

// latest turns a stored timestamp into the latest instant it can stand for:
// the API keeps whole seconds, so the real moment lies within the second
// after. Clocks computed from it never fire early.
func latest(t *metav1.Time) time.Time {
	if t == nil || t.IsZero() {
		return time.Time{}
	}
	return t.Add(secondPrecisionRoundingUp)
}

// taskExpiry says when a finished task with a TTL is due for deletion; ok is
// false when it never is (not finished, or no TTL).
func taskExpiry(task *arlv1.Task) (time.Time, bool) {
	if task.Spec.TTLSecondsAfterFinished == nil || !task.IsFinished() {
		return time.Time{}, false
	}
	done := latest(task.Status.CompletionTime)
	if done.IsZero() {
		done = task.CreationTimestamp.Add(time.Second)
	}
	return done.Add(time.Duration(*task.Spec.TTLSecondsAfterFinished) * time.Second), true
}

// sandboxVerdict is what the TTL controller does with a sandbox.
type sandboxVerdict struct {
	// delete now, with reason and message for the event.
	delete  bool
	reason  string
	message string
	// recheckAt is when to look again (zero: only on events).
	recheckAt time.Time
}

// judgeSandbox decides a sandbox's fate from its tasks (as the cache has
// them) at now:
//   - keepAlive false: deleted once one of its tasks finished and none is
//     pending or running (a task dispatched to an earlier sandbox of the
//     same name is not one of its tasks);
//   - idleTimeoutSeconds: deleted after that long with no pending or running
//     task, counted from the latest of its lastTaskTime, its allocation, its
//     creation, its tasks' start and completion times and seen, the latest
//     task time this process saw for it (activity.TaskTimes: it covers the
//     times of tasks deleted before the Sandbox controller wrote them to
//     status.lastTaskTime, which it does at most once per interval).
func judgeSandbox(sandbox *arlv1.Sandbox, tasks []arlv1.Task, seen, now time.Time) sandboxVerdict {
	if sandbox.DeletionTimestamp != nil {
		return sandboxVerdict{}
	}
	active, hadTask := false, sandbox.Status.LastTaskTime != nil || !seen.IsZero()
	last := latestOf(latest(&sandbox.CreationTimestamp), latest(sandbox.Status.AllocationTime), latest(sandbox.Status.LastTaskTime), latest(&metav1.Time{Time: seen}))
	for i := range tasks {
		t := &tasks[i]
		if t.DispatchedElsewhere(sandbox.UID) {
			continue // an earlier sandbox's task, of the same name
		}
		if t.IsFinished() {
			hadTask = true
		} else {
			active = true
		}
		last = latestOf(last, latest(t.Status.StartTime), latest(t.Status.CompletionTime))
	}
	if active {
		return sandboxVerdict{}
	}
	if !sandbox.Spec.KeepAlive && hadTask {
		return sandboxVerdict{delete: true, reason: arlv1.EventReasonOneShotDone,
			message: "deleted: the sandbox is one-shot (keepAlive: false) and its task finished"}
	}
	if sandbox.Spec.IdleTimeoutSeconds == nil {
		return sandboxVerdict{}
	}
	timeout := time.Duration(*sandbox.Spec.IdleTimeoutSeconds) * time.Second
	due := last.Add(timeout)
	if now.Before(due) {
		return sandboxVerdict{recheckAt: due}
	}
	return sandboxVerdict{delete: true, reason: arlv1.EventReasonIdleTimeout,
		message: fmt.Sprintf("deleted: no task ran for %s (idleTimeoutSeconds: %d)", now.Sub(last).Round(time.Second), *sandbox.Spec.IdleTimeoutSeconds)}
}

func latestOf(times ...time.Time) time.Time {
	var m time.Time
	for _, t := range times {
		if t.After(m) {
			m = t
		}
	}
	return m
}
