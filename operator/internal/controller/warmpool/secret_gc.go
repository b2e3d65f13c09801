package warmpool

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

// TokenSecretReconciler deletes the sidecar token Secret of a pool pod once
// the pod is gone, whoever deleted it (the pool, garbage collection after its
// Sandbox, a user). The pool owns the Secrets, so deleting the pool also
// removes any left behind.
type TokenSecretReconciler struct {
	client.Client
	// Reader reads Secrets straight from the API server (the manager's
	// APIReader), so the operator needs no list/watch on Secrets.
	Reader client.Reader
}

// Reconcile runs for a pool pod that was deleted.
func (r *TokenSecretReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	pod := &corev1.Pod{}
	err := r.Get(ctx, req.NamespacedName, pod)
	if err == nil {
		return ctrl.Result{}, nil
	}
	if !apierrors.IsNotFound(err) {
		return ctrl.Result{}, fmt.Errorf("get pod %s: %w", req, err)
	}
	secret := &corev1.Secret{}
	key := client.ObjectKey{Namespace: req.Namespace, Name: arlv1.SidecarTokenSecretName(req.Name)}
	if err := r.Reader.Get(ctx, key, secret); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !isTokenSecret(secret) {
		return ctrl.Result{}, nil
	}
	if err := r.Delete(ctx, secret, client.Preconditions{UID: &secret.UID}); client.IgnoreNotFound(err) != nil {
		return ctrl.Result{}, fmt.Errorf("delete token secret %s: %w", key, err)
	}
	return ctrl.Result{}, nil
}

// isTokenSecret reports whether secret is a sidecar token Secret made by a pool.
func isTokenSecret(secret *corev1.Secret) bool {
	if secret.Labels[arlv1.LabelPool] == "" {
		return false
	}
	owner := metav1.GetControllerOf(secret)
	return owner != nil && owner.Kind == "WarmPool" && owner.APIVersion == arlv1.GroupVersion.String()
}

// SetupWithManager runs the reconciler on deletions of pool pods only.
func (r *TokenSecretReconciler) SetupWithManager(mgr ctrl.Manager) error {
	onlyDeletes := predicate.Funcs{
		CreateFunc:  func(event.CreateEvent) bool { return false },
		UpdateFunc:  func(event.UpdateEvent) bool { return false },
		DeleteFunc:  func(e event.DeleteEvent) bool { return e.Object.GetLabels()[arlv1.LabelPool] != "" },
		GenericFunc: func(event.GenericEvent) bool { return false },
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&corev1.Pod{}, builder.WithPredicates(onlyDeletes)).
		Named("warmpool-token-secrets").
		Complete(r)
}
