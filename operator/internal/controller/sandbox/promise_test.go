package sandbox

import (
	"context"
	"errors"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

// failPodPatches makes every pod patch (the bind) fail as a server timeout
// while *fail is true; other writes go through.
func failPodPatches(fail *bool) interceptor.Funcs {
	return interceptor.Funcs{Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
		if _, isPod := obj.(*corev1.Pod); isPod && *fail {
			return apierrors.NewServerTimeout(schema.GroupResource{Resource: "pods"}, "patch", 1)
		}
		return c.Patch(ctx, obj, patch, opts...)
	}}
}

// reconcileFake runs one pass for sb over a fake client holding objs (and
// sb) and returns the client.
func reconcileFake(t *testing.T, sb *arlv1.Sandbox, objs ...client.Object) client.Client {
	t.Helper()
	c := fakeClient(t, interceptor.Funcs{}, append(objs, sb)...)
	if err := reconcileOnce(t, &SandboxReconciler{Client: c, Pods: podCfg}, client.ObjectKeyFromObject(sb)); err != nil {
		t.Fatal(err)
	}
	return c
}

func reconcileOnce(t *testing.T, r *SandboxReconciler, key client.ObjectKey) error {
	t.Helper()
	_, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: key})
	return err
}

func storedPod(t *testing.T, c client.Client, name string) (*corev1.Pod, bool) {
	t.Helper()
	pod := &corev1.Pod{}
	err := c.Get(context.Background(), client.ObjectKey{Namespace: "ns", Name: name}, pod)
	if apierrors.IsNotFound(err) {
		return nil, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return pod, true
}

// statusWithoutBind runs a first pass for a new sandbox of a pool of pods
// whose bind fails (a server timeout) while its status write lands; *fail
// turns the failure off.
func statusWithoutBind(t *testing.T, pods int) (c client.Client, r *SandboxReconciler, sb *arlv1.Sandbox, fail *bool) {
	t.Helper()
	pool, objs := poolAndPods(t, pods)
	sb = &arlv1.Sandbox{ObjectMeta: metav1.ObjectMeta{Name: "sb", Namespace: "ns", UID: "sb-uid"}, Spec: arlv1.SandboxSpec{PoolRef: pool.Name}}
	fail = new(bool)
	*fail = true
	c = fakeClient(t, failPodPatches(fail), append(objs, sb)...)
	r = &SandboxReconciler{Client: c, Pods: podCfg}
	if err := reconcileOnce(t, r, client.ObjectKeyFromObject(sb)); err == nil {
		t.Fatal("want the failed bind reported")
	}
	return c, r, sb, fail
}

// The status write and the bind run in parallel; when only the status
// lands, the next pass finishes the bind (as after an operator restart).
func TestAStatusWithoutItsBindIsFinishedByTheNextPass(t *testing.T) {
	c, r, sb, fail := statusWithoutBind(t, 2)
	key := client.ObjectKeyFromObject(sb)
	got := getFake(t, c, key)
	if got.Status.Phase != arlv1.SandboxPhaseReady || got.Status.PodName == "" {
		t.Fatalf("status = %+v, want Ready with a pod", got.Status)
	}
	pod, _ := storedPod(t, c, got.Status.PodName)
	if pod.Labels[arlv1.LabelState] != arlv1.PodStateIdle {
		t.Fatalf("pod labels = %v, want the bind not stored yet", pod.Labels)
	}

	*fail = false
	if err := reconcileOnce(t, r, key); err != nil {
		t.Fatal(err)
	}
	pod, _ = storedPod(t, c, got.Status.PodName)
	if !metav1.IsControlledBy(pod, got) || pod.Labels[arlv1.LabelSandbox] != "sb" {
		t.Errorf("pod %s owners %+v labels %v, want it bound to sb", pod.Name, pod.OwnerReferences, pod.Labels)
	}
	if after := getFake(t, c, key); after.Status.PodName != got.Status.PodName || after.Status.Phase != arlv1.SandboxPhaseReady {
		t.Errorf("status = %+v, want the same pod, Ready", after.Status)
	}
}

// A restarted operator (no claims in memory) finishes the bind of the pod
// the status names, and the pool's other pod stays idle.
func TestARestartedOperatorFinishesTheBindTheStatusNames(t *testing.T) {
	pool, objs := poolAndPods(t, 2)
	named := objs[1].(*corev1.Pod)
	sb := &arlv1.Sandbox{ObjectMeta: metav1.ObjectMeta{Name: "sb", Namespace: "ns", UID: "sb-uid"}, Spec: arlv1.SandboxSpec{PoolRef: pool.Name},
		Status: arlv1.SandboxStatus{Phase: arlv1.SandboxPhaseReady, PodName: named.Name}}
	c := reconcileFake(t, sb, objs...)
	pod, _ := storedPod(t, c, named.Name)
	if !metav1.IsControlledBy(pod, sb) {
		t.Errorf("pod owners = %+v, want sb", pod.OwnerReferences)
	}
	other, _ := storedPod(t, c, objs[2].GetName())
	if other.Labels[arlv1.LabelState] != arlv1.PodStateIdle {
		t.Errorf("the other pod is %q, want idle", other.Labels[arlv1.LabelState])
	}
}

// A pod the status names but someone else bound first is lost: the
// sandbox fails instead of sharing it.
func TestAPodBoundElsewhereBeforeTheBindFailsTheSandbox(t *testing.T) {
	pool, objs := poolAndPods(t, 1)
	named := objs[1].(*corev1.Pod)
	thief := &arlv1.Sandbox{ObjectMeta: metav1.ObjectMeta{Name: "thief", Namespace: "ns", UID: "thief-uid"}}
	named.Labels[arlv1.LabelState] = arlv1.PodStateAllocated
	named.Labels[arlv1.LabelSandbox] = thief.Name
	named.OwnerReferences = []metav1.OwnerReference{*metav1.NewControllerRef(thief, arlv1.GroupVersion.WithKind("Sandbox"))}
	sb := &arlv1.Sandbox{ObjectMeta: metav1.ObjectMeta{Name: "sb", Namespace: "ns", UID: "sb-uid"}, Spec: arlv1.SandboxSpec{PoolRef: pool.Name},
		Status: arlv1.SandboxStatus{Phase: arlv1.SandboxPhaseReady, PodName: named.Name}}
	c := reconcileFake(t, sb, objs...)
	got := getFake(t, c, client.ObjectKeyFromObject(sb))
	if got.Status.Phase != arlv1.SandboxPhaseFailed || readyReason(got.Status) != arlv1.SandboxReasonPodLost {
		t.Errorf("status = %+v, want Failed/PodLost", got.Status)
	}
	pod, _ := storedPod(t, c, named.Name)
	if !metav1.IsControlledBy(pod, thief) {
		t.Errorf("pod owners = %+v, want it left with thief", pod.OwnerReferences)
	}
}

// A sandbox deleted after its status named a pod but before the bind
// landed may have used the pod: the pod is deleted, not returned idle.
func TestThePromisedPodOfASandboxDeletedBeforeItsBindIsDeleted(t *testing.T) {
	c, r, sb, _ := statusWithoutBind(t, 1)
	key := client.ObjectKeyFromObject(sb)
	podName := getFake(t, c, key).Status.PodName
	if err := c.Delete(context.Background(), sb); err != nil {
		t.Fatal(err)
	}
	if err := reconcileOnce(t, r, key); err != nil {
		t.Fatal(err)
	}
	if _, exists := storedPod(t, c, podName); exists {
		t.Errorf("pod %s still exists; a pod promised to a deleted sandbox must not return to the pool", podName)
	}
}

// When neither write lands the pod was never named anywhere and goes back
// to the pool for the next pass.
func TestAPromiseWhoseWritesBothFailIsWithdrawn(t *testing.T) {
	pool, objs := poolAndPods(t, 1)
	sb := &arlv1.Sandbox{ObjectMeta: metav1.ObjectMeta{Name: "sb", Namespace: "ns", UID: "sb-uid"}, Spec: arlv1.SandboxSpec{PoolRef: pool.Name}}
	down := true
	c := fakeClient(t, interceptor.Funcs{
		Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
			if down {
				return errors.New("connection refused")
			}
			return c.Patch(ctx, obj, patch, opts...)
		},
		SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
			if down {
				return errors.New("connection refused")
			}
			return c.SubResource(sub).Patch(ctx, obj, patch, opts...)
		},
	}, append(objs, sb)...)
	r := &SandboxReconciler{Client: c, Pods: podCfg}
	key := client.ObjectKeyFromObject(sb)
	if err := reconcileOnce(t, r, key); err == nil {
		t.Fatal("want the failed writes reported")
	}
	if r.Claims.Claimed(objs[1].GetUID()) {
		t.Error("the pod is still claimed after both writes failed")
	}
	down = false
	if err := reconcileOnce(t, r, key); err != nil {
		t.Fatal(err)
	}
	if got := getFake(t, c, key); got.Status.PodName != objs[1].GetName() || got.Status.Phase != arlv1.SandboxPhaseReady {
		t.Errorf("status = %+v, want Ready on %s", got.Status, objs[1].GetName())
	}
}

func getFake(t *testing.T, c client.Client, key client.ObjectKey) *arlv1.Sandbox {
	t.Helper()
	sb := &arlv1.Sandbox{}
	if err := c.Get(context.Background(), key, sb); err != nil {
		t.Fatal(err)
	}
	return sb
}
