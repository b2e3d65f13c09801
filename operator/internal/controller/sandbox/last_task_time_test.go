package sandbox

import (
	"context"
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
	"github.com/arl-infra/arl/operator/internal/testenv"
)

func TestLastTaskTimeInterval(t *testing.T) {
	keep := &arlv1.Sandbox{Spec: arlv1.SandboxSpec{KeepAlive: true}}
	idle := keep.DeepCopy()
	idle.Spec.IdleTimeoutSeconds = ptr.To[int32](30)
	oneShot := &arlv1.Sandbox{}
	for _, tt := range []struct {
		name string
		sb   *arlv1.Sandbox
		flag time.Duration
		want time.Duration
	}{
		{"keep-alive: the flag", keep, 10 * time.Second, 10 * time.Second},
		{"idle timeout 30s: capped at a tenth of it", idle, 10 * time.Second, 3 * time.Second},
		{"idle timeout longer than ten intervals: the flag", idle, time.Second, time.Second},
		{"one-shot: at once", oneShot, 10 * time.Second, 0},
		{"flag 0: at once", keep, 0, 0},
	} {
		if got := lastTaskTimeInterval(tt.sb, tt.flag); got != tt.want {
			t.Errorf("%s: interval = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestCoalesceHoldsANewerLastTaskTimeUntilDue(t *testing.T) {
	r := &SandboxReconciler{LastTaskTimeInterval: 10 * time.Second}
	r.init()
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	sb := &arlv1.Sandbox{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "sb", UID: "uid"},
		Spec:       arlv1.SandboxSpec{KeepAlive: true},
		Status:     arlv1.SandboxStatus{Phase: arlv1.SandboxPhaseReady, LastTaskTime: ptr.To(metav1.NewTime(now.Add(-time.Minute)))},
	}
	newer := sb.Status.DeepCopy()
	newer.LastTaskTime = ptr.To(metav1.NewTime(now))

	got, wait := r.coalesceLastTaskTime(sb, *newer, now)
	if wait != 10*time.Second || !got.LastTaskTime.Equal(sb.Status.LastTaskTime) {
		t.Fatalf("first newer time: wait %v, lastTaskTime %v; want it held 10s", wait, got.LastTaskTime)
	}
	key := types.NamespacedName{Namespace: "ns", Name: "sb"}
	if !r.lastTaskTimes.pending(key) {
		t.Fatal("no write scheduled")
	}
	// A later pass within the interval keeps the same due time.
	if _, wait := r.coalesceLastTaskTime(sb, *newer, now.Add(4*time.Second)); wait != 6*time.Second {
		t.Fatalf("second pass: wait %v, want 6s", wait)
	}
	// A task deleted meanwhile left its time only in the record: the due
	// write carries it.
	deleted := now.Add(5 * time.Second)
	r.TaskTimes.Observe(key, "uid", deleted)
	got, wait = r.coalesceLastTaskTime(sb, *newer, now.Add(10*time.Second))
	if wait != 0 || !got.LastTaskTime.Time.Equal(deleted) {
		t.Fatalf("due pass: wait %v, lastTaskTime %v; want %v written now", wait, got.LastTaskTime, deleted)
	}
	if r.lastTaskTimes.pending(key) {
		t.Fatal("the schedule stayed after the write")
	}
}

func TestCoalesceWritesAtOnceWhenTheStatusChangesAnyway(t *testing.T) {
	r := &SandboxReconciler{LastTaskTimeInterval: 10 * time.Second}
	r.init()
	now := time.Now()
	sb := &arlv1.Sandbox{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "sb"},
		Spec:       arlv1.SandboxSpec{KeepAlive: true},
		Status:     arlv1.SandboxStatus{Phase: arlv1.SandboxPhaseReady},
	}
	failed := sb.Status.DeepCopy()
	failed.Phase = arlv1.SandboxPhaseFailed
	failed.LastTaskTime = ptr.To(metav1.NewTime(now))
	if got, wait := r.coalesceLastTaskTime(sb, *failed, now); wait != 0 || got.LastTaskTime == nil {
		t.Fatalf("wait %v, lastTaskTime %v: a status written anyway must carry the newer time", wait, got.LastTaskTime)
	}
}

// TestCoalescedLastTaskTimeLandsOnce: tasks finishing within one interval
// (the suite's reconciler writes at most every 3s) cost one status write,
// and the write carries the latest time even when that task was deleted
// before the write.
func TestCoalescedLastTaskTimeLandsOnce(t *testing.T) {
	ns, c := namespace(t)
	createPool(t, c, ns, "pool", 1)
	readyIdlePods(t, c, ns, "pool", 1)
	createSandbox(t, c, ns, "busy", "pool")
	sb := waitPhase(t, c, ns, "busy", arlv1.SandboxPhaseReady, arlv1.SandboxReasonSidecarReady)

	env := suite.Env(t)
	wc, err := client.NewWithWatch(env.Config, client.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	w, err := wc.Watch(ctx, &arlv1.SandboxList{}, client.InNamespace(ns), client.MatchingFields{"metadata.name": "busy"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	base := time.Now().Add(time.Hour).Truncate(time.Second) // later than anything the status holds
	var last metav1.Time
	start := time.Now()
	for i := range 5 {
		task := &arlv1.Task{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("t%d", i), Namespace: ns},
			Spec: arlv1.TaskSpec{SandboxRef: "busy", Steps: []arlv1.TaskStep{
				{Name: "run", Type: arlv1.StepTypeCommand, Command: []string{"true"}},
			}},
		}
		if err := c.Create(ctx, task); err != nil {
			t.Fatal(err)
		}
		patch := client.MergeFrom(task.DeepCopy())
		last = metav1.NewTime(base.Add(time.Duration(i) * time.Second))
		task.Status = arlv1.TaskStatus{State: arlv1.TaskStateSucceeded, SandboxUID: sb.UID,
			StartTime: ptr.To(metav1.NewTime(last.Add(-time.Second))), CompletionTime: ptr.To(last)}
		if err := c.Status().Patch(ctx, task, patch); err != nil {
			t.Fatal(err)
		}
		if i == 4 { // deleted at once, as a TTL of 0 would
			if err := c.Delete(ctx, task); err != nil {
				t.Fatal(err)
			}
		}
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("creating the tasks took %v, more than the 3s interval allows for this test", took)
	}

	var writes []string
	for {
		select {
		case ev, ok := <-w.ResultChan():
			if !ok {
				t.Fatalf("watch closed; lastTaskTime writes so far: %v", writes)
			}
			if ev.Type != watch.Modified {
				continue
			}
			got := ev.Object.(*arlv1.Sandbox).Status.LastTaskTime
			if got == nil || got.Before(&metav1.Time{Time: base}) {
				continue
			}
			writes = append(writes, got.UTC().Format(time.TimeOnly))
			if !got.Equal(&last) {
				t.Fatalf("lastTaskTime written as %v before the latest %v: the writes were not coalesced (%v)", got, last, writes)
			}
			// The one write landed; nothing more may follow within the next interval.
			testenv.Consistently(t, 4*time.Second, "no second lastTaskTime write", func() (bool, error) {
				select {
				case ev := <-w.ResultChan():
					if ev.Type == watch.Modified {
						return false, fmt.Errorf("another write: %v", ev.Object.(*arlv1.Sandbox).Status.LastTaskTime)
					}
				default:
				}
				return true, nil
			})
			return
		case <-ctx.Done():
			t.Fatalf("the coalesced lastTaskTime write did not land within %v (writes: %v)", waitFor, writes)
		}
	}
}
