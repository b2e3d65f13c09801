package task

import (
	"testing"

	"k8s.io/client-go/tools/events"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

// A succeeded task records no event unless SucceededEvents asks for it: at
// many tasks per second that event is a third of the API server's writes.
func TestSucceededEventIsOptional(t *testing.T) {
	for _, on := range []bool{false, true} {
		rec := events.NewFakeRecorder(4)
		d := &dispatcher{opts: Options{SucceededEvents: on}, recorder: rec}
		d.eventOutcome(&arlv1.Task{}, plan{podName: "p"}, attemptOutcome{}, verdictSucceeded)
		if got, want := len(rec.Events), map[bool]int{false: 0, true: 1}[on]; got != want {
			t.Errorf("SucceededEvents=%v: %d events, want %d", on, got, want)
		}
	}
	rec := events.NewFakeRecorder(4)
	d := &dispatcher{opts: Options{}, recorder: rec}
	d.eventOutcome(&arlv1.Task{}, plan{podName: "p"}, attemptOutcome{}, verdictFailed)
	if len(rec.Events) != 1 {
		t.Errorf("a failed task recorded %d events, want 1", len(rec.Events))
	}
}
