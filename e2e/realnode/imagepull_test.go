//go:build realnode

package realnode

import (
	"strings"
	"testing"
	"time"

	fw "github.com/arl-infra/arl/e2e/framework"
)

// A pool whose image the registry does not have reports it: Ready=False
// with reason ImagePullFailed and the kubelet's message, and a Warning
// event ImagePullFailed, instead of staying Scaling forever.
func TestPoolWithMissingImageSaysSo(t *testing.T) {
	fw.ApplyYAML(t, `apiVersion: arl.infra.io/v1alpha1
kind: WarmPool
metadata:
  name: missing-image-pool
spec:
  replicas: 1
  template:
    spec:
      containers:
        - name: executor
          image: python:3.9-no-such-tag
          command: ["sleep", "infinity"]
`)
	defer fw.K(t, "delete", "warmpool", "missing-image-pool", "--ignore-not-found")
	start := time.Now()
	var cond string
	fw.Eventually(t, 2*time.Minute, "the pool's Ready condition to say ImagePullFailed", func() bool {
		cond, _ = fw.KErr("get", "warmpool", "missing-image-pool", "-o", `jsonpath={.status.conditions[?(@.type=="Ready")].reason}: {.status.conditions[?(@.type=="Ready")].message}`)
		return strings.HasPrefix(cond, "ImagePullFailed: ")
	})
	t.Logf("after %s: %s", time.Since(start).Round(time.Millisecond), cond)
	for _, want := range []string{"container executor", "python:3.9-no-such-tag", "not found"} {
		if !strings.Contains(cond, want) {
			t.Errorf("condition %q lacks %q", cond, want)
		}
	}
	fw.Eventually(t, 30*time.Second, "a Warning event ImagePullFailed on the pool", func() bool {
		out, _ := fw.KErr("get", "events", "--field-selector", "involvedObject.name=missing-image-pool,reason=ImagePullFailed", "-o", "jsonpath={.items[*].type} {.items[*].message}")
		return strings.HasPrefix(out, "Warning") && strings.Contains(out, "python:3.9-no-such-tag")
	})
	if out := fw.K(t, "describe", "warmpool", "missing-image-pool"); !strings.Contains(out, "ImagePullFailed") {
		t.Errorf("kubectl describe warmpool does not show ImagePullFailed:\n%s", out)
	}
}
