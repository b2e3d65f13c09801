package sandbox

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

// An operator that bound a pod and died before writing the sandbox's status
// finds that pod again instead of taking a second one.
func TestReconcileFindsThePodBoundBeforeARestart(t *testing.T) {
	pool, objs := poolAndPods(t, 3)
	sb := &arlv1.Sandbox{ObjectMeta: metav1.ObjectMeta{Name: "sb", Namespace: "ns", UID: "sb-uid"}, Spec: arlv1.SandboxSpec{PoolRef: pool.Name}}
	bound := objs[2].(*corev1.Pod)
	bound.Labels[arlv1.LabelState] = arlv1.PodStateAllocated
	bound.Labels[arlv1.LabelSandbox] = "sb"
	bound.OwnerReferences = []metav1.OwnerReference{*metav1.NewControllerRef(sb, arlv1.GroupVersion.WithKind("Sandbox"))}

	c := reconcileFake(t, sb, objs...)
	got := &arlv1.Sandbox{}
	if err := c.Get(context.Background(), client.ObjectKeyFromObject(sb), got); err != nil {
		t.Fatal(err)
	}
	if got.Status.PodName != bound.Name || got.Status.Phase != arlv1.SandboxPhaseReady {
		t.Fatalf("status = %+v, want the pod bound before the restart (%s)", got.Status, bound.Name)
	}
	var idle corev1.PodList
	if err := c.List(context.Background(), &idle, client.MatchingLabels{arlv1.LabelState: arlv1.PodStateIdle}); err != nil {
		t.Fatal(err)
	}
	if len(idle.Items) != 2 {
		t.Errorf("%d idle pods left, want 2 (no second pod taken)", len(idle.Items))
	}
}
