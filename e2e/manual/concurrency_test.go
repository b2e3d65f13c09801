package manual

import (
	"fmt"
	"strings"
	"testing"
	"time"

	fw "github.com/arl-infra/arl/e2e/framework"
)

// spec.taskConcurrency: Serial runs a sandbox's tasks one at a time in
// creation order. 20 tasks created by one apply (within the same second,
// with names whose sort order differs from their creation order) each
// append their number to a file and print it: each must see exactly the
// numbers of the tasks created before it.
func TestSerialTasksSeeEachOtherInCreationOrder(t *testing.T) {
	quickStart(t) // python-pool
	const n = 20
	fw.K(t, "delete", "task", "-l", "arl-e2e=serial", "--ignore-not-found", "--wait=true")
	fw.K(t, "delete", "sandbox", "serial-sandbox", "--ignore-not-found", "--wait=true")
	fw.ApplyYAML(t, `{"apiVersion":"arl.infra.io/v1alpha1","kind":"Sandbox","metadata":{"name":"serial-sandbox"},
"spec":{"poolRef":"python-pool","keepAlive":true,"taskConcurrency":"Serial"}}`)
	t.Cleanup(func() {
		fw.K(t, "delete", "task", "-l", "arl-e2e=serial", "--ignore-not-found")
		fw.K(t, "delete", "sandbox", "serial-sandbox", "--ignore-not-found")
	})
	fw.WaitFor(t, "sandbox/serial-sandbox", ".status.phase", "Ready", 2*time.Minute)

	items := make([]string, n)
	for i := range n {
		items[i] = fmt.Sprintf(`{"apiVersion":"arl.infra.io/v1alpha1","kind":"Task","metadata":{"name":"serial-%d","labels":{"arl-e2e":"serial"}},
"spec":{"sandboxRef":"serial-sandbox","steps":[{"name":"append","type":"Command","command":["sh","-c","echo %d >> order.txt && cat order.txt"]}]}}`, i, i)
	}
	fw.ApplyYAML(t, `{"apiVersion":"v1","kind":"List","items":[`+strings.Join(items, ",")+`]}`)

	var want strings.Builder
	for i := range n {
		name := fmt.Sprintf("serial-%d", i)
		fw.WaitFor(t, "task/"+name, ".status.state", "Succeeded", 2*time.Minute)
		fmt.Fprintf(&want, "%d\n", i)
		if got := taskField(t, name, ".status.stdout"); got != want.String() {
			t.Errorf("task %s saw %q, want %q (the tasks created before it, in order)", name, got, want.String())
		}
	}
}
