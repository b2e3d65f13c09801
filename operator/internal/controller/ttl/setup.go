package ttl

import (
	"context"
	"fmt"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
	"github.com/arl-infra/arl/operator/internal/indexer"
)

// SetupWithManager registers the "task-ttl" controller and the Task index
// by spec.sandboxRef that the sandbox TTL controller reads.
func (r *TaskTTLReconciler) SetupWithManager(mgr ctrl.Manager) error {
	err := ctrl.NewControllerManagedBy(mgr).
		Named("task-ttl").
		For(&arlv1.Task{}, builder.WithPredicates(finishedWithTTL)).
		Complete(r)
	if err != nil {
		return fmt.Errorf("build task TTL controller: %w", err)
	}
	return nil
}

// SetupWithManager registers the "sandbox-ttl" controller and the Task index
// by spec.sandboxRef it reads.
func (r *SandboxTTLReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if err := indexer.Ensure(context.Background(), mgr.GetFieldIndexer(), arlv1.TaskSandboxRefField); err != nil {
		return err
	}
	err := ctrl.NewControllerManagedBy(mgr).
		Named("sandbox-ttl").
		For(&arlv1.Sandbox{}, builder.WithPredicates(mayExpire)).
		Watches(&arlv1.Task{}, handler.EnqueueRequestsFromMapFunc(r.sandboxOfTask)).
		Complete(r)
	if err != nil {
		return fmt.Errorf("build sandbox TTL controller: %w", err)
	}
	return nil
}

// finishedWithTTL passes only tasks that will ever be deleted by TTL.
var finishedWithTTL = predicate.NewPredicateFuncs(func(obj client.Object) bool {
	t, ok := obj.(*arlv1.Task)
	return ok && t.Spec.TTLSecondsAfterFinished != nil && t.IsFinished()
})

// mayExpire passes only sandboxes that are one-shot or have an idle timeout.
var mayExpire = predicate.Funcs{
	CreateFunc:  func(e event.CreateEvent) bool { return sandboxMayExpire(e.Object) },
	UpdateFunc:  func(e event.UpdateEvent) bool { return sandboxMayExpire(e.ObjectNew) },
	DeleteFunc:  func(event.DeleteEvent) bool { return false },
	GenericFunc: func(e event.GenericEvent) bool { return sandboxMayExpire(e.Object) },
}

func sandboxMayExpire(obj client.Object) bool {
	s, ok := obj.(*arlv1.Sandbox)
	return ok && s.DeletionTimestamp == nil && (!s.Spec.KeepAlive || s.Spec.IdleTimeoutSeconds != nil)
}

// sandboxOfTask maps a task event to the sandbox it runs in, recording the
// task's times first: this controller's handler may see a task's last
// update before the Sandbox controller's does, and its deletion right after.
func (r *SandboxTTLReconciler) sandboxOfTask(_ context.Context, obj client.Object) []reconcile.Request {
	t, ok := obj.(*arlv1.Task)
	if !ok || t.Spec.SandboxRef == "" {
		return nil
	}
	r.TaskTimes.ObserveTask(t)
	return []reconcile.Request{{NamespacedName: client.ObjectKey{Namespace: t.Namespace, Name: t.Spec.SandboxRef}}}
}
