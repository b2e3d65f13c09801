package sandbox

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

// A pass that reads the sandbox from a cache older than its own status
// write (the bound pod's event came first) writes nothing: no second
// status write, no second allocationTime.
func TestReconcileOnAStaleCacheDoesNotRewriteTheStatus(t *testing.T) {
	pool, objs := poolAndPods(t, 2)
	sb := &arlv1.Sandbox{ObjectMeta: metav1.ObjectMeta{Name: "sb", Namespace: "ns", UID: "sb-uid"}, Spec: arlv1.SandboxSpec{PoolRef: pool.Name}}
	objs = append(objs, sb)

	var stale *arlv1.Sandbox // the cached copy from before the status write
	statusWrites := 0
	c := fakeClient(t, interceptor.Funcs{
		Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			if got, ok := obj.(*arlv1.Sandbox); ok && stale != nil {
				stale.DeepCopyInto(got)
				return nil
			}
			return c.Get(ctx, key, obj, opts...)
		},
		SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
			statusWrites++
			return c.SubResource(sub).Patch(ctx, obj, patch, opts...)
		},
	}, objs...)
	fresh := &arlv1.Sandbox{}
	if err := c.Get(context.Background(), client.ObjectKeyFromObject(sb), fresh); err != nil {
		t.Fatal(err)
	}

	r := &SandboxReconciler{Client: c, Pods: podCfg}
	req := ctrl.Request{NamespacedName: client.ObjectKeyFromObject(sb)}
	if _, err := r.Reconcile(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	first := &arlv1.Sandbox{}
	if err := c.Get(context.Background(), req.NamespacedName, first); err != nil {
		t.Fatal(err)
	}
	if first.Status.Phase != arlv1.SandboxPhaseReady || statusWrites != 1 {
		t.Fatalf("after the first pass: phase %s, %d status writes; want Ready after 1", first.Status.Phase, statusWrites)
	}

	stale = fresh // the cache has not seen the status write yet
	for range 3 {
		if _, err := r.Reconcile(context.Background(), req); err != nil {
			t.Fatal(err)
		}
	}
	stale = nil
	after := &arlv1.Sandbox{}
	if err := c.Get(context.Background(), req.NamespacedName, after); err != nil {
		t.Fatal(err)
	}
	if statusWrites != 1 {
		t.Errorf("%d status writes, want 1: stale passes rewrote the status", statusWrites)
	}
	if after.Status.PodName != first.Status.PodName || !after.Status.AllocationTime.Equal(first.Status.AllocationTime) {
		t.Errorf("status moved from %+v to %+v", first.Status, after.Status)
	}
}

func TestWrittenStatusesCatchUp(t *testing.T) {
	written := arlv1.SandboxStatus{Phase: arlv1.SandboxPhaseReady, PodName: "p"}
	for _, tc := range []struct {
		name, cachedRV string
		wantPhase      arlv1.SandboxPhase
		wantKept       bool
	}{
		{"cache older than the write", "99", arlv1.SandboxPhaseReady, true},
		{"cache holds the write", "100", "", false},
		{"cache newer than the write", "123", "", false},
		{"versions not comparable", "abc", "", false},
	} {
		w := newWrittenStatuses()
		w.remember(&arlv1.Sandbox{ObjectMeta: metav1.ObjectMeta{Name: "sb", Namespace: "ns", ResourceVersion: "100"}, Status: written})
		cached := &arlv1.Sandbox{ObjectMeta: metav1.ObjectMeta{Name: "sb", Namespace: "ns", ResourceVersion: tc.cachedRV}}
		w.catchUp(cached)
		if cached.Status.Phase != tc.wantPhase {
			t.Errorf("%s: phase %q, want %q", tc.name, cached.Status.Phase, tc.wantPhase)
		}
		if _, kept := w.m[client.ObjectKeyFromObject(cached)]; kept != tc.wantKept {
			t.Errorf("%s: memory kept = %v, want %v", tc.name, kept, tc.wantKept)
		}
	}
}

// A pass on a cached sandbox that was deleted meanwhile (its pod went with
// it) stores nothing, so it emits no PodLost event either.
func TestNoEventForATransitionThatWasNotStored(t *testing.T) {
	pool, objs := poolAndPods(t, 1)
	gone := &arlv1.Sandbox{ObjectMeta: metav1.ObjectMeta{Name: "gone", Namespace: "ns", UID: "gone-uid", ResourceVersion: "5"},
		Spec:   arlv1.SandboxSpec{PoolRef: pool.Name},
		Status: arlv1.SandboxStatus{Phase: arlv1.SandboxPhaseReady, PodName: "deleted-pod"}}
	c := fakeClient(t, interceptor.Funcs{
		Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			if got, ok := obj.(*arlv1.Sandbox); ok && key.Name == gone.Name {
				gone.DeepCopyInto(got) // the stale cache still has it
				return nil
			}
			return c.Get(ctx, key, obj, opts...)
		},
	}, objs...)
	recorder := events.NewFakeRecorder(10)
	r := &SandboxReconciler{Client: c, Recorder: recorder, Pods: podCfg}
	if _, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: client.ObjectKeyFromObject(gone)}); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-recorder.Events:
		t.Errorf("event %q for a sandbox that no longer exists", ev)
	default:
	}
}
