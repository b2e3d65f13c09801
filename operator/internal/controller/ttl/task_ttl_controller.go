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

// +kubebuilder:rbac:groups=arl.infra.io,resources=tasks,verbs=get;list;watch;delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// TaskTTLReconciler deletes finished Tasks ttlSecondsAfterFinished after
// their completionTime.
type TaskTTLReconciler struct {
	client client.Client
	eventer
}

// Reconcile deletes the task when its time is up, or asks to be called then.
func (r *TaskTTLReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var task arlv1.Task
	if err := r.client.Get(ctx, req.NamespacedName, &task); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if task.DeletionTimestamp != nil {
		return ctrl.Result{}, nil
	}
	due, ok := taskExpiry(&task)
	if !ok {
		return ctrl.Result{}, nil
	}
	if wait := time.Until(due); wait > 0 {
		return ctrl.Result{RequeueAfter: wait}, nil
	}
	err := r.client.Delete(ctx, &task, client.Preconditions{UID: &task.UID})
	if apierrors.IsNotFound(err) {
		return ctrl.Result{}, nil
	}
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("delete task after its TTL: %w", err)
	}
	ctrl.LoggerFrom(ctx).Info("deleted a finished task after its TTL", "ttlSecondsAfterFinished", *task.Spec.TTLSecondsAfterFinished)
	r.event(&task, nil, corev1.EventTypeNormal, EventReasonTTLExpired, "Delete",
		"deleted %ds after it finished (ttlSecondsAfterFinished)", *task.Spec.TTLSecondsAfterFinished)
	return ctrl.Result{}, nil
}
