package task

import (
	"context"
	"fmt"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
	"github.com/arl-infra/arl/operator/internal/indexer"
	"github.com/arl-infra/arl/operator/internal/sidecarclient"
)

// SetupWithManager registers the Task controller, its worker pool and the
// Task index with mgr.
func (r *TaskReconciler) SetupWithManager(mgr ctrl.Manager) error {
	r.Options = r.Options.withDefaults()
	if err := indexer.Ensure(context.Background(), mgr.GetFieldIndexer(), arlv1.TaskSandboxRefField); err != nil {
		return err
	}
	r.tokens = sidecarclient.NewTokens(r.Live)
	runner := &stepRunner{clients: sidecarclient.NewPool(), tokens: r.tokens}
	r.dispatcher = newDispatcher(r.Options, r.Client, r.Live, r.Recorder, runner, mgr.GetLogger().WithName("task-workers"))
	if err := mgr.Add(r.dispatcher); err != nil {
		return fmt.Errorf("add task workers: %w", err)
	}
	r.order = newCreationOrder()
	err := ctrl.NewControllerManagedBy(mgr).
		Named("task").
		For(&arlv1.Task{}, builder.WithPredicates(taskNeedsWork)).
		Watches(&arlv1.Sandbox{}, handler.EnqueueRequestsFromMapFunc(r.tasksOfSandbox), builder.WithPredicates(sandboxReadinessChanged)).
		Watches(&arlv1.Task{}, handler.EnqueueRequestsFromMapFunc(r.nextInLine), builder.WithPredicates(taskFinishedOrGone)).
		WatchesRawSource(source.Channel(r.dispatcher.requeue, &handler.EnqueueRequestForObject{})).
		WithOptions(controller.Options{MaxConcurrentReconciles: r.Options.MaxConcurrentReconciles}).
		Complete(r)
	if err != nil {
		return fmt.Errorf("build task controller: %w", err)
	}
	return nil
}

// tasksOfSandbox maps a Sandbox event to its unfinished Tasks.
func (r *TaskReconciler) tasksOfSandbox(ctx context.Context, obj client.Object) []reconcile.Request {
	var tasks arlv1.TaskList
	if err := r.Client.List(ctx, &tasks, client.InNamespace(obj.GetNamespace()),
		client.MatchingFields{arlv1.TaskSandboxRefField: obj.GetName()}); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "list tasks of sandbox", "sandbox", obj.GetName())
		return nil
	}
	var reqs []reconcile.Request
	for i := range tasks.Items {
		if !tasks.Items[i].IsFinished() {
			reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&tasks.Items[i])})
		}
	}
	return reqs
}

// taskNeedsWork drops updates of tasks that were finished before and after.
var taskNeedsWork = predicate.Funcs{
	UpdateFunc: func(e event.UpdateEvent) bool {
		old, oldOK := e.ObjectOld.(*arlv1.Task)
		cur, curOK := e.ObjectNew.(*arlv1.Task)
		return !oldOK || !curOK || !old.IsFinished() || !cur.IsFinished()
	},
}

// sandboxReadinessChanged passes Sandbox events that can change what a task
// waiting on it does: creation, deletion, and changes of phase, pod or
// deletion mark.
var sandboxReadinessChanged = predicate.Funcs{
	UpdateFunc: func(e event.UpdateEvent) bool {
		old, oldOK := e.ObjectOld.(*arlv1.Sandbox)
		cur, curOK := e.ObjectNew.(*arlv1.Sandbox)
		if !oldOK || !curOK {
			return true
		}
		return old.Status.Phase != cur.Status.Phase ||
			old.Status.PodIP != cur.Status.PodIP ||
			old.Status.PodName != cur.Status.PodName ||
			(old.DeletionTimestamp == nil) != (cur.DeletionTimestamp == nil)
	},
}
