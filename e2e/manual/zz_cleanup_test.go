package manual

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fw "github.com/arl-infra/arl/e2e/framework"
	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

// Runs last (file order): it removes the quick start's pool.
// FAQ 5: clean-up. Deleting a sandbox gives its pod up (the pool replaces
// it); deleting the pool deletes its pods.
func TestCleanUp(t *testing.T) {
	pod := quickStart(t).Status.PodName
	fw.DeleteNoWait(t, fw.Named[arlv1.Task]("hello-task"))
	fw.K(t, "delete", "sandbox", "my-workspace")
	fw.WaitGone(t, fw.Named[corev1.Pod](pod), 30*time.Second)
	fw.WaitPoolReady(t, "python-pool", 3, time.Minute)
	fw.K(t, "delete", "warmpool", "python-pool")
	fw.Until(t, 30*time.Second, "the pool's pods to be gone", func(c context.Context) (bool, string, error) {
		pods := &corev1.PodList{}
		if err := fw.Client().List(c, pods, client.InNamespace(fw.Namespace), client.MatchingLabels{arlv1.LabelPool: "python-pool"}); err != nil {
			return false, "", err
		}
		return len(pods.Items) == 0, fmt.Sprintf("%d pods left", len(pods.Items)), nil
	})
}
