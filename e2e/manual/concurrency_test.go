package manual

import (
	"fmt"
	"strings"
	"testing"
	"time"

	fw "github.com/arl-infra/arl/e2e/framework"
	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

// spec.taskConcurrency: Serial runs a sandbox's tasks one at a time in
// creation order. 20 tasks created back to back (within the same second,
// with names whose sort order differs from their creation order) each
// append their number to a file and print it: each must see exactly the
// numbers of the tasks created before it.
func TestSerialTasksSeeEachOtherInCreationOrder(t *testing.T) {
	quickStart(t) // python-pool
	const n = 20
	fw.DeleteLabelled(t, &arlv1.Task{}, "arl-e2e", "serial")
	for i := range n {
		fw.WaitGone(t, fw.Named[arlv1.Task](fmt.Sprintf("serial-%d", i)), time.Minute)
	}
	sb := fw.Sandbox("serial-sandbox", "python-pool")
	sb.Spec.TaskConcurrency = arlv1.TaskConcurrencySerial
	fw.Recreate(t, sb)
	t.Cleanup(func() {
		fw.DeleteLabelled(t, &arlv1.Task{}, "arl-e2e", "serial")
		fw.DeleteNoWait(t, fw.Named[arlv1.Sandbox]("serial-sandbox"))
	})
	fw.WaitSandboxReady(t, "serial-sandbox", 2*time.Minute)
	for i := range n {
		task := fw.Task(fmt.Sprintf("serial-%d", i), "serial-sandbox", fw.Command("append", "sh", "-c", fmt.Sprintf("echo %d >> order.txt && cat order.txt", i)))
		task.Labels = map[string]string{"arl-e2e": "serial"}
		fw.Create(t, task)
	}
	var want strings.Builder
	for i := range n {
		name := fmt.Sprintf("serial-%d", i)
		task := fw.WaitTask(t, name, arlv1.TaskStateSucceeded, 2*time.Minute)
		fmt.Fprintf(&want, "%d\n", i)
		if got := task.Status.Stdout; got != want.String() {
			t.Errorf("task %s saw %q, want %q (the tasks created before it, in order)", name, got, want.String())
		}
	}
}
