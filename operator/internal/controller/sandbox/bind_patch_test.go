package sandbox

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
	"github.com/arl-infra/arl/operator/internal/poolpod"
)

// These tests bind against the real API server, where the JSON patch's test
// operations are evaluated. The sandboxes are never stored (no controller
// allocates for them); only their names and UIDs reach the pods.
func phantomSandbox(name string) *arlv1.Sandbox {
	return &arlv1.Sandbox{ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID("uid-" + name)}}
}

func getPool(t *testing.T, c client.Client, ns, name string) *arlv1.WarmPool {
	t.Helper()
	pool := &arlv1.WarmPool{}
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, pool); err != nil {
		t.Fatal(err)
	}
	return pool
}

func getPod(t *testing.T, c client.Client, ns, name string) *corev1.Pod {
	t.Helper()
	pod := &corev1.Pod{}
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, pod); err != nil {
		t.Fatal(err)
	}
	return pod
}

// A node writing the pod's status after the cache read must not fail the
// bind (a resourceVersion precondition did); a second binder holding the
// same stale view must still lose.
func TestBindSurvivesStatusWritesAndLosesToAnEarlierBind(t *testing.T) {
	ns, c := namespace(t)
	createPool(t, c, ns, "pool", 1)
	stale := readyIdlePods(t, c, ns, "pool", 1)[0].DeepCopy()
	pool := getPool(t, c, ns, "pool")

	// The node rewrites the status: the resourceVersion moves on.
	fresh := getPod(t, c, ns, stale.Name)
	patch := client.MergeFrom(fresh.DeepCopy())
	fresh.Status.Message = "probed again"
	if err := c.Status().Patch(context.Background(), fresh, patch); err != nil {
		t.Fatal(err)
	}

	a := newAllocator(c, podCfg, poolpod.NewPodClaims())
	if err := a.bind(context.Background(), phantomSandbox("first"), pool, stale); err != nil {
		t.Fatalf("bind after a status write: %v", err)
	}
	err := a.bind(context.Background(), phantomSandbox("second"), pool, stale)
	if err == nil || !lostBindRace(err) {
		t.Fatalf("second bind of the same pod = %v, want a lost race", err)
	}
	got := getPod(t, c, ns, stale.Name)
	owner := metav1.GetControllerOf(got)
	if got.Labels[arlv1.LabelSandbox] != "first" || got.Labels[arlv1.LabelState] != arlv1.PodStateAllocated ||
		owner == nil || owner.UID != "uid-first" || len(got.OwnerReferences) != 1 {
		t.Fatalf("pod labels %v owners %+v, want it bound to the first sandbox only", got.Labels, got.OwnerReferences)
	}
}

// Of many binders racing for one pod at the same moment, exactly one wins.
func TestConcurrentBindsOfOnePodHaveOneWinner(t *testing.T) {
	const binders = 20
	ns, c := namespace(t)
	createPool(t, c, ns, "pool", 1)
	stale := readyIdlePods(t, c, ns, "pool", 1)[0].DeepCopy()
	pool := getPool(t, c, ns, "pool")

	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		winners []string
		other   []error
	)
	start := make(chan struct{})
	for i := range binders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("sb-%02d", i)
			<-start
			err := newAllocator(c, podCfg, poolpod.NewPodClaims()).bind(context.Background(), phantomSandbox(name), pool, stale)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				winners = append(winners, name)
			case !lostBindRace(err):
				other = append(other, err)
			}
		}()
	}
	close(start)
	wg.Wait()
	if len(other) > 0 {
		t.Fatalf("binds failed for another reason than a lost race: %v", other)
	}
	if len(winners) != 1 {
		t.Fatalf("winners = %v, want exactly one", winners)
	}
	if got := getPod(t, c, ns, stale.Name).Labels[arlv1.LabelSandbox]; got != winners[0] {
		t.Fatalf("pod labelled for %q, winner %q", got, winners[0])
	}
}

// A pod the pool is deleting, or that another pool controls, is not bound.
func TestBindRefusesADeletingOrForeignPod(t *testing.T) {
	ns, c := namespace(t)
	ctx := context.Background()
	createPool(t, c, ns, "pool", 2)
	idle := readyIdlePods(t, c, ns, "pool", 2)
	pool := getPool(t, c, ns, "pool")
	a := newAllocator(c, podCfg, poolpod.NewPodClaims())

	// Deleting: a finalizer keeps the pod visible with a deletionTimestamp.
	deleting := getPod(t, c, ns, idle[0].Name)
	stale := deleting.DeepCopy()
	controllerutil.AddFinalizer(deleting, "arl.infra.io/test-hold")
	if err := c.Update(ctx, deleting); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p := &corev1.Pod{}
		if c.Get(ctx, client.ObjectKeyFromObject(deleting), p) == nil {
			controllerutil.RemoveFinalizer(p, "arl.infra.io/test-hold")
			_ = c.Update(ctx, p)
		}
	})
	if err := c.Delete(ctx, deleting); err != nil {
		t.Fatal(err)
	}
	if err := a.bind(ctx, phantomSandbox("late"), pool, stale); err == nil || !lostBindRace(err) {
		t.Fatalf("bind of a deleting pod = %v, want a lost race", err)
	}

	// Foreign: the pool's controller reference was replaced meanwhile.
	foreign := getPod(t, c, ns, idle[1].Name)
	stale = foreign.DeepCopy()
	patch := client.MergeFrom(foreign.DeepCopy())
	foreign.OwnerReferences[0].UID = "another-pool"
	if err := c.Patch(ctx, foreign, patch); err != nil {
		t.Fatal(err)
	}
	if err := a.bind(ctx, phantomSandbox("late"), pool, stale); err == nil || !lostBindRace(err) {
		t.Fatalf("bind of a foreign pod = %v, want a lost race", err)
	}
	if got := getPod(t, c, ns, foreign.Name); got.Labels[arlv1.LabelState] != arlv1.PodStateIdle {
		t.Fatalf("foreign pod labels %v, want it left idle", got.Labels)
	}
}

func TestLostBindRace(t *testing.T) {
	pods := schema.GroupResource{Resource: "pods"}
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"conflict", apierrors.NewConflict(pods, "p", errors.New("changed")), true},
		{"gone", apierrors.NewNotFound(pods, "p"), true},
		{"failed test operation (bare 422)", apierrors.NewGenericServerResponse(http.StatusUnprocessableEntity, "", schema.GroupResource{}, "", "testing value failed", 0, false), true},
		{"invalid pod after the patch", apierrors.NewInvalid(schema.GroupKind{Kind: "Pod"}, "p",
			field.ErrorList{field.Invalid(field.NewPath("metadata", "labels"), "x", "too long")}), false},
		{"forbidden", apierrors.NewForbidden(pods, "p", errors.New("rbac")), false},
		{"timeout", apierrors.NewTimeoutError("slow", 1), false},
	} {
		if got := lostBindRace(tc.err); got != tc.want {
			t.Errorf("%s: lostBindRace = %v, want %v", tc.name, got, tc.want)
		}
	}
}
