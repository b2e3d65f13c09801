package sandbox

import (
	"context"
	"errors"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
	"github.com/arl-infra/arl/operator/internal/indexer"
	"github.com/arl-infra/arl/operator/internal/poolpod"
)

var podCfg = poolpod.PodConfig{SidecarImage: "sidecar:test"}

func fakeClient(t *testing.T, funcs interceptor.Funcs, objs ...client.Object) client.Client {
	t.Helper()
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(arlv1.AddToScheme(scheme))
	b := fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).WithInterceptorFuncs(funcs).WithStatusSubresource(&arlv1.Sandbox{})
	for _, idx := range indexer.All() {
		b = b.WithIndex(idx.Object, idx.Field, idx.Extract)
	}
	return b.Build()
}

func poolAndPods(t *testing.T, n int) (*arlv1.WarmPool, []client.Object) {
	pool := &arlv1.WarmPool{
		ObjectMeta: metav1.ObjectMeta{Name: "pool", Namespace: "ns", UID: "pool-uid"},
		Spec: arlv1.WarmPoolSpec{Replicas: ptr.To[int32](int32(n)), Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "executor", Image: "busybox"}},
		}}},
	}
	hash := poolpod.TemplateHash(pool, podCfg)
	objs := []client.Object{pool}
	for i := range n {
		p, err := poolpod.BuildPod(pool, "pool-"+string(rune('a'+i)), hash, podCfg)
		if err != nil {
			t.Fatal(err)
		}
		p.UID = types.UID("uid-" + p.Name)
		podReady(p)
		objs = append(objs, p)
	}
	return pool, objs
}

func TestPickPromisesAPodOnceAndBindHandsItOver(t *testing.T) {
	pool, objs := poolAndPods(t, 1)
	c := fakeClient(t, interceptor.Funcs{}, objs...)
	sb := &arlv1.Sandbox{ObjectMeta: metav1.ObjectMeta{Name: "sb", Namespace: "ns", UID: "sb-uid"}}
	a := newAllocator(c, podCfg, poolpod.NewPodClaims())
	got, err := a.pick(context.Background(), sb, pool)
	if err != nil || got == nil {
		t.Fatalf("pick = %v, %v", got, err)
	}
	// The promised pod is never offered to another sandbox; while its
	// writes are in flight the other sandbox is told to retry soon.
	if again, err := a.pick(context.Background(), &arlv1.Sandbox{ObjectMeta: metav1.ObjectMeta{Name: "sb2", Namespace: "ns", UID: "u2"}}, pool); !errors.Is(err, errAllocationRace) || again != nil {
		t.Errorf("second pick = %v, %v; want no pod and errAllocationRace", again, err)
	}
	if err := a.bind(context.Background(), sb, pool, got); err != nil {
		t.Fatal(err)
	}
	stored := &corev1.Pod{}
	if err := c.Get(context.Background(), client.ObjectKeyFromObject(got), stored); err != nil {
		t.Fatal(err)
	}
	if stored.Labels[arlv1.LabelState] != arlv1.PodStateAllocated || stored.Labels[arlv1.LabelSandbox] != "sb" {
		t.Errorf("labels = %v", stored.Labels)
	}
	owner := metav1.GetControllerOf(stored)
	if owner == nil || owner.Kind != "Sandbox" || owner.UID != "sb-uid" || len(stored.OwnerReferences) != 1 {
		t.Errorf("owners = %+v", stored.OwnerReferences)
	}
	if p, ok := a.promised(sb); !ok || !p.bound || p.pod.Name != got.Name {
		t.Errorf("promise = %+v, %v; want bound to %s", p, ok, got.Name)
	}
}

// After a restart the claims are empty: a pod another sandbox's status
// names (its bind never landed) is still not offered.
func TestPickSkipsAPodNamedByAnotherSandbox(t *testing.T) {
	pool, objs := poolAndPods(t, 2)
	named := objs[1].(*corev1.Pod)
	other := &arlv1.Sandbox{ObjectMeta: metav1.ObjectMeta{Name: "other", Namespace: "ns", UID: "other-uid"},
		Status: arlv1.SandboxStatus{Phase: arlv1.SandboxPhaseReady, PodName: named.Name}}
	c := fakeClient(t, interceptor.Funcs{}, append(objs, other)...)
	a := newAllocator(c, podCfg, poolpod.NewPodClaims())
	for i := range 5 {
		sb := &arlv1.Sandbox{ObjectMeta: metav1.ObjectMeta{Name: "sb", Namespace: "ns", UID: types.UID(fmt.Sprint("u", i))}}
		got, err := a.pick(context.Background(), sb, pool)
		if err != nil {
			t.Fatal(err)
		}
		if got != nil && got.Name == named.Name {
			t.Fatalf("picked %s, which sandbox %q names", got.Name, other.Name)
		}
		if got != nil {
			a.withdraw(sb, got)
		}
	}
	// With only the named pod left there is nothing to wait for: no pod,
	// and no quick retry (the sandbox waits for the pool like any other).
	only := newAllocator(fakeClient(t, interceptor.Funcs{}, objs[0], named, other), podCfg, poolpod.NewPodClaims())
	got, err := only.pick(context.Background(), &arlv1.Sandbox{ObjectMeta: metav1.ObjectMeta{Name: "sb", Namespace: "ns", UID: "u"}}, pool)
	if got != nil || err != nil {
		t.Errorf("pick with only a named pod = %v, %v; want nil, nil", got, err)
	}
}

func TestPickSkipsPodsClaimedForDeletion(t *testing.T) {
	pool, objs := poolAndPods(t, 1)
	claims := poolpod.NewPodClaims()
	if !claims.ForDeletion(objs[1].GetUID()) {
		t.Fatal("claim for deletion refused")
	}
	got, err := newAllocator(fakeClient(t, interceptor.Funcs{}, objs...), podCfg, claims).
		pick(context.Background(), &arlv1.Sandbox{ObjectMeta: metav1.ObjectMeta{Name: "sb", Namespace: "ns", UID: "u"}}, pool)
	if err != nil || got != nil {
		t.Errorf("pick = %v, %v; want no pod", got, err)
	}
}

func TestPickSkipsUnreadyForeignAndStalePods(t *testing.T) {
	pool, objs := poolAndPods(t, 3)
	objs[1].(*corev1.Pod).Status.Conditions = nil                                       // not Ready
	objs[2].(*corev1.Pod).OwnerReferences[0].UID = "other"                              // another pool's
	objs[3].(*corev1.Pod).Annotations[arlv1.AnnotationTemplateHash] = "an-old-template" // stale
	c := fakeClient(t, interceptor.Funcs{}, objs...)
	got, err := newAllocator(c, podCfg, poolpod.NewPodClaims()).pick(context.Background(), &arlv1.Sandbox{ObjectMeta: metav1.ObjectMeta{Name: "sb", Namespace: "ns"}}, pool)
	if err != nil || got != nil {
		t.Errorf("pick = %v, %v; want no pod", got, err)
	}
}
