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
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
	"github.com/arl-infra/arl/operator/internal/indexer"
)

// Setup registers the two TTL controllers ("task-ttl", "sandbox-ttl") and
// the Task index by spec.sandboxRef they read.
func Setup(mgr ctrl.Manager, opts Options) error {
	opts = opts.withDefaults()
	if err := indexer.Ensure(context.Background(), mgr.GetFieldIndexer(), arlv1.TaskSandboxRefField); err != nil {
		return err
	}
	var rec recorder.EventRecorder
	if !opts.EventsDisabled {
		rec = mgr.GetEventRecorder(opts.RecorderName)
	}

	err := ctrl.NewControllerManagedBy(mgr).
		Named("task-ttl").
		For(&arlv1.Task{}, builder.WithPredicates(finishedWithTTL)).
		Complete(&TaskTTLReconciler{client: mgr.GetClient()})
	if err != nil {
		return fmt.Errorf("build task TTL controller: %w", err)
	}

	err = ctrl.NewControllerManagedBy(mgr).
		Named("sandbox-ttl").
		For(&arlv1.Sandbox{}, builder.WithPredicates(mayExpire)).
		Watches(&arlv1.Task{}, handler.EnqueueRequestsFromMapFunc(sandboxOfTask)).
		Complete(&SandboxTTLReconciler{client: mgr.GetClient(), eventer: eventer{rec}})
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

// sandboxOfTask maps a task event to the sandbox it runs in.
func sandboxOfTask(_ context.Context, obj client.Object) []reconcile.Request {
	t, ok := obj.(*arlv1.Task)
	if !ok || t.Spec.SandboxRef == "" {
		return nil
	}
	return []reconcile.Request{{NamespacedName: client.ObjectKey{Namespace: t.Namespace, Name: t.Spec.SandboxRef}}}
}
