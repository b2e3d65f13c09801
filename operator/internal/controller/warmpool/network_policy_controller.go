package warmpool

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

// NetworkPolicyReconciler keeps each WarmPool's NetworkPolicy as its
// spec.networkPolicy says (network_policy.go) and reverts edits to it. The
// pool owns the policy: deleting the pool deletes it.
type NetworkPolicyReconciler struct {
	client.Client
	Scheme *runtime.Scheme
	// Recorder emits events; nil turns them off.
	Recorder events.EventRecorder
	// OperatorNamespace may reach the sidecar's ports under an ingress
	// allow-list.
	OperatorNamespace string
}

// +kubebuilder:rbac:groups=networking.k8s.io,resources=networkpolicies,verbs=get;list;watch;create;update;delete

// Reconcile creates, updates or deletes the pool's NetworkPolicy.
func (r *NetworkPolicyReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	pool := &arlv1.WarmPool{}
	if err := r.Get(ctx, req.NamespacedName, pool); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err) // garbage collection removes its policy
	}
	if pool.DeletionTimestamp != nil {
		return ctrl.Result{}, nil
	}
	current := &networkingv1.NetworkPolicy{}
	err := r.Get(ctx, req.NamespacedName, current)
	switch {
	case apierrors.IsNotFound(err):
		current = nil
	case err != nil:
		return ctrl.Result{}, fmt.Errorf("get networkpolicy %s: %w", req, err)
	case !metav1.IsControlledBy(current, pool):
		if r.Recorder != nil {
			r.Recorder.Eventf(pool, nil, corev1.EventTypeWarning, arlv1.EventReasonNetworkPolicyConflict, "ApplyNetworkPolicy",
				"NetworkPolicy %s exists and is not this pool's: left alone, the pool's spec.networkPolicy is not applied", req.Name)
		}
		return ctrl.Result{}, nil
	}

	if !pool.NetworkPolicyEnabled() {
		if current == nil {
			return ctrl.Result{}, nil
		}
		if err := r.Delete(ctx, current, client.Preconditions{UID: &current.UID}); client.IgnoreNotFound(err) != nil {
			return ctrl.Result{}, fmt.Errorf("delete networkpolicy %s: %w", req, err)
		}
		log.FromContext(ctx).Info("deleted the pool's NetworkPolicy: spec.networkPolicy.disabled")
		return ctrl.Result{}, nil
	}

	want := buildNetworkPolicy(pool, r.OperatorNamespace)
	if err := controllerutil.SetControllerReference(pool, want, r.Scheme); err != nil {
		return ctrl.Result{}, fmt.Errorf("own networkpolicy %s: %w", req, err)
	}
	if current == nil {
		if err := r.Create(ctx, want); err != nil {
			return ctrl.Result{}, fmt.Errorf("create networkpolicy %s: %w", req, err)
		}
		return ctrl.Result{}, nil
	}
	if equality.Semantic.DeepEqual(current.Spec, want.Spec) && current.Labels[arlv1.LabelPool] == pool.Name {
		return ctrl.Result{}, nil
	}
	current.Spec = want.Spec
	if current.Labels == nil {
		current.Labels = map[string]string{}
	}
	current.Labels[arlv1.LabelPool] = pool.Name
	if err := r.Update(ctx, current); err != nil {
		return ctrl.Result{}, fmt.Errorf("update networkpolicy %s: %w", req, err)
	}
	return ctrl.Result{}, nil
}

// SetupWithManager watches WarmPools and the NetworkPolicies they own.
func (r *NetworkPolicyReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&arlv1.WarmPool{}).
		Owns(&networkingv1.NetworkPolicy{}).
		Named("warmpool-networkpolicy").
		Complete(r)
}
