package ttl

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

// +kubebuilder:rbac:groups=arl.infra.io,resources=sandboxes,verbs=get;list;watch;delete

// SandboxTTLReconciler deletes one-shot sandboxes whose task finished and
// sandboxes idle past their idleTimeoutSeconds.
type SandboxTTLReconciler struct {
	client client.Client
	eventer
}

// Reconcile judges one sandbox from its tasks in the cache.
func (r *SandboxTTLReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var sandbox arlv1.Sandbox
	if err := r.client.Get(ctx, req.NamespacedName, &sandbox); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if sandbox.Spec.KeepAlive && sandbox.Spec.IdleTimeoutSeconds == nil {
		return ctrl.Result{}, nil
	}
	var tasks arlv1.TaskList
	if err := r.client.List(ctx, &tasks, client.InNamespace(sandbox.Namespace),
		client.MatchingFields{arlv1.TaskSandboxRefField: sandbox.Name}); err != nil {
		return ctrl.Result{}, fmt.Errorf("list tasks of sandbox: %w", err)
	}
	now := time.Now()
	v := judgeSandbox(&sandbox, tasks.Items, now)
	if !v.delete {
		if v.recheckAt.IsZero() {
			return ctrl.Result{}, nil
		}
		return ctrl.Result{RequeueAfter: v.recheckAt.Sub(now)}, nil
	}
	err := r.client.Delete(ctx, &sandbox, client.Preconditions{UID: &sandbox.UID})
	if apierrors.IsNotFound(err) {
		return ctrl.Result{}, nil
	}
	if err != nil {
		r.event(&sandbox, nil, corev1.EventTypeWarning, EventReasonDeleteFailed, "Delete", "%s: %v", v.reason, err)
		return ctrl.Result{}, fmt.Errorf("delete sandbox (%s): %w", v.reason, err)
	}
	ctrl.LoggerFrom(ctx).Info("deleted a sandbox", "reason", v.reason)
	r.event(&sandbox, nil, corev1.EventTypeNormal, v.reason, "Delete", "%s", v.message)
	return ctrl.Result{}, nil
}
