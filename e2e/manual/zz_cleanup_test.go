package manual

import (
	"strings"
	"testing"
	"time"

	fw "github.com/arl-infra/arl/e2e/framework"
)

// Runs last (file order): it removes the quick start's pool.
// FAQ 5: clean-up. Deleting a sandbox gives its pod up (the pool replaces
// it); deleting the pool deletes its pods.
func TestCleanUp(t *testing.T) {
	quickStart(t)
	fw.K(t, "delete", "task", "hello-task", "--ignore-not-found")
	pod := fw.JSONPath(t, "sandbox/my-workspace", ".status.podName")
	fw.K(t, "delete", "sandbox", "my-workspace")
	fw.Eventually(t, 30*time.Second, "the sandbox's pod "+pod+" to be gone", func() bool {
		_, err := fw.KErr("get", "pod", pod)
		return err != nil
	})
	fw.Eventually(t, time.Minute, "the pool to refill to 3 ready pods", func() bool {
		out, _ := fw.KErr("get", "warmpool", "python-pool", "-o", "jsonpath={.status.readyReplicas}")
		return out == "3"
	})
	fw.K(t, "delete", "warmpool", "python-pool")
	fw.Eventually(t, 30*time.Second, "the pool's pods to be gone", func() bool {
		out, _ := fw.KErr("get", "pods", "-l", "arl.infra.io/pool=python-pool", "-o", "name")
		return strings.TrimSpace(out) == ""
	})
}
