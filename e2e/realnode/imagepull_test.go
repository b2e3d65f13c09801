//go:build realnode

package realnode

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fw "github.com/arl-infra/arl/e2e/framework"
	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

// A pool whose image the registry does not have reports it: Ready=False
// with reason ImagePullFailed and the kubelet's message, and a Warning
// event ImagePullFailed, instead of staying Scaling forever.
func TestPoolWithMissingImageSaysSo(t *testing.T) {
	pool := fw.Pool("missing-image-pool", 1)
	pool.Spec.Template.Spec.Containers[0].Image = "python:3.9-no-such-tag"
	fw.Recreate(t, pool)
	defer fw.DeleteNoWait(t, pool)
	start := time.Now()
	var cond string
	fw.Until(t, 2*time.Minute, "the pool's Ready condition to say ImagePullFailed", func(c context.Context) (bool, string, error) {
		if err := fw.Client().Get(c, client.ObjectKeyFromObject(pool), pool); err != nil {
			return false, "", err
		}
		ready := meta.FindStatusCondition(pool.Status.Conditions, arlv1.WarmPoolConditionReady)
		if ready == nil {
			return false, "no Ready condition", nil
		}
		cond = ready.Reason + ": " + ready.Message
		return ready.Reason == arlv1.WarmPoolReasonImagePullFailed, cond, nil
	})
	t.Logf("after %s: %s", time.Since(start).Round(time.Millisecond), cond)
	for _, want := range []string{"container executor", "python:3.9-no-such-tag", "not found"} {
		if !strings.Contains(cond, want) {
			t.Errorf("condition %q lacks %q", cond, want)
		}
	}
	fw.Until(t, 30*time.Second, "a Warning event ImagePullFailed on the pool", func(c context.Context) (bool, string, error) {
		events := &corev1.EventList{}
		if err := fw.Client().List(c, events, client.InNamespace(fw.Namespace),
			client.MatchingFields{"involvedObject.name": pool.Name, "reason": arlv1.EventReasonImagePullFailed}); err != nil {
			return false, "", err
		}
		var seen []string
		for _, e := range events.Items {
			if e.Type == corev1.EventTypeWarning && strings.Contains(e.Message, "python:3.9-no-such-tag") {
				return true, "", nil
			}
			seen = append(seen, e.Type+" "+e.Message)
		}
		return false, fmt.Sprintf("events %q", seen), nil
	})
	if out := fw.K(t, "describe", "warmpool", pool.Name); !strings.Contains(out, "ImagePullFailed") {
		t.Errorf("kubectl describe warmpool does not show ImagePullFailed:\n%s", out)
	}
}
