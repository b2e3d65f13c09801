package ttl

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

func ptr[T any](v T) *T { return &v }

func at(t time.Time) *metav1.Time { m := metav1.NewTime(t.Truncate(time.Second)); return &m }

func TestTaskExpiry(t *testing.T) {
	done := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	finished := arlv1.Task{Spec: arlv1.TaskSpec{TTLSecondsAfterFinished: ptr[int32](300)},
		Status: arlv1.TaskStatus{State: arlv1.TaskStateSucceeded, CompletionTime: at(done)}}
	due, ok := taskExpiry(&finished)
	if !ok || !due.Equal(done.Add(301*time.Second)) {
		t.Fatalf("expiry = %v %v, want 300s after completion (+1s for the stored second)", due, ok)
	}
	running := finished
	running.Status.State = arlv1.TaskStateRunning
	if _, ok := taskExpiry(&running); ok {
		t.Fatal("a running task must not expire")
	}
	noTTL := finished
	noTTL.Spec.TTLSecondsAfterFinished = nil
	if _, ok := taskExpiry(&noTTL); ok {
		t.Fatal("a task without a TTL must not expire")
	}
}

func TestJudgeSandbox(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	created := metav1.NewTime(now.Add(-time.Hour))
	sandbox := func(keepAlive bool, idle *int32) *arlv1.Sandbox {
		return &arlv1.Sandbox{
			ObjectMeta: metav1.ObjectMeta{Name: "sb", CreationTimestamp: created},
			Spec:       arlv1.SandboxSpec{PoolRef: "p", KeepAlive: keepAlive, IdleTimeoutSeconds: idle},
		}
	}
	task := func(state arlv1.TaskState, completedAgo time.Duration) arlv1.Task {
		t := arlv1.Task{Status: arlv1.TaskStatus{State: state}}
		if state == arlv1.TaskStateSucceeded || state == arlv1.TaskStateFailed {
			t.Status.CompletionTime = at(now.Add(-completedAgo))
		}
		return t
	}
	deleting := sandbox(false, nil)
	deleting.DeletionTimestamp = &created
	lastTask := sandbox(false, nil)
	lastTask.Status.LastTaskTime = at(now.Add(-time.Minute))

	// A keep-alive sandbox whose status.lastTaskTime was written 40s ago;
	// its last task finished 5s ago and was deleted by its TTL before the
	// Sandbox controller's next (coalesced) write: only seen knows it.
	staleStatus := sandbox(true, ptr[int32](30))
	staleStatus.Status.LastTaskTime = at(now.Add(-40 * time.Second))
	seenRecently := now.Add(-5 * time.Second).Truncate(time.Second)

	tests := []struct {
		name       string
		sandbox    *arlv1.Sandbox
		tasks      []arlv1.Task
		seen       time.Time
		wantDelete bool
		wantReason string
		wantAt     time.Time
	}{
		{"one-shot with no task yet stays", sandbox(false, nil), nil, time.Time{}, false, "", time.Time{}},
		{"one-shot with a running task stays", sandbox(false, nil), []arlv1.Task{task(arlv1.TaskStateRunning, 0)}, time.Time{}, false, "", time.Time{}},
		{"one-shot with a pending task stays", sandbox(false, nil), []arlv1.Task{task(arlv1.TaskStateSucceeded, time.Second), task("", 0)}, time.Time{}, false, "", time.Time{}},
		{"one-shot whose task finished goes", sandbox(false, nil), []arlv1.Task{task(arlv1.TaskStateFailed, time.Second)}, time.Time{}, true, arlv1.EventReasonOneShotDone, time.Time{}},
		{"one-shot whose finished task was deleted goes (lastTaskTime)", lastTask, nil, time.Time{}, true, arlv1.EventReasonOneShotDone, time.Time{}},
		{"one-shot recreated under the name of one whose task finished stays", sandbox(false, nil),
			[]arlv1.Task{func() arlv1.Task {
				t := task(arlv1.TaskStateSucceeded, time.Second)
				t.Status.SandboxUID = "earlier-sandbox"
				return t
			}()},
			time.Time{}, false, "", time.Time{}},
		{"keepAlive without idle timeout stays", sandbox(true, nil), []arlv1.Task{task(arlv1.TaskStateSucceeded, time.Hour)}, time.Time{}, false, "", time.Time{}},
		{"idle past the timeout since the last task goes", sandbox(true, ptr[int32](60)), []arlv1.Task{task(arlv1.TaskStateSucceeded, 2*time.Minute)}, time.Time{}, true, arlv1.EventReasonIdleTimeout, time.Time{}},
		{"idle under the timeout is checked again when it runs out", sandbox(true, ptr[int32](60)), []arlv1.Task{task(arlv1.TaskStateSucceeded, 30*time.Second)},
			time.Time{}, false, "", now.Add(-30*time.Second + time.Second + 60*time.Second)},
		{"idle since creation with no task goes", sandbox(true, ptr[int32](60)), nil, time.Time{}, true, arlv1.EventReasonIdleTimeout, time.Time{}},
		{"a running task is never idle", sandbox(true, ptr[int32](1)), []arlv1.Task{task(arlv1.TaskStateRunning, 0)}, time.Time{}, false, "", time.Time{}},
		{"a sandbox being deleted is left alone", deleting, []arlv1.Task{task(arlv1.TaskStateSucceeded, time.Hour)}, time.Time{}, false, "", time.Time{}},
		{"idle counted from a deleted task's time not yet in the status (seen) stays", staleStatus, nil, seenRecently,
			false, "", seenRecently.Add(time.Second + 30*time.Second)},
		{"the same sandbox without seen would have gone 9s early", staleStatus, nil, time.Time{}, true, arlv1.EventReasonIdleTimeout, time.Time{}},
		{"one-shot whose task was deleted before its time was written goes (seen)", sandbox(false, nil), nil, seenRecently,
			true, arlv1.EventReasonOneShotDone, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := judgeSandbox(tt.sandbox, tt.tasks, tt.seen, now)
			if v.delete != tt.wantDelete || v.reason != tt.wantReason || !v.recheckAt.Equal(tt.wantAt) {
				t.Fatalf("verdict = %+v, want delete=%v reason=%q recheckAt=%v", v, tt.wantDelete, tt.wantReason, tt.wantAt)
			}
			if v.delete && v.message == "" {
				t.Fatal("a deletion must say why")
			}
		})
	}
}
