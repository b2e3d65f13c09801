package ttl

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

// +kubebuilder:rbac:groups=arl.infra.io,resources=tasks,verbs=get;list;watch;delete

// TaskTTLReconciler deletes finished Tasks ttlSecondsAfterFinished after
// their completionTime.
type TaskTTLReconciler struct {
	Client client.Client
}

// Reconcile deletes the task when its time is up, or asks to be called then.
func (r *TaskTTLReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var task arlv1.Task
	if err := r.Client.Get(ctx, req.NamespacedName, &task); err != nil {
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
	err := r.Client.Delete(ctx, &task, client.Preconditions{UID: &task.UID})
	if apierrors.IsNotFound(err) {
		return ctrl.Result{}, nil
	}
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("delete task after its TTL: %w", err)
	}
	// No event, like Kubernetes' TTL-after-finished controller for Jobs: an
	// event per deleted task doubled the events of a busy namespace (and the
	// API server's memory for them) to describe an object that is gone.
	ctrl.LoggerFrom(ctx).Info("deleted a finished task after its TTL", "ttlSecondsAfterFinished", *task.Spec.TTLSecondsAfterFinished)
	return ctrl.Result{}, nil
}
