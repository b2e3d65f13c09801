package task

import (
	"cmp"
	"context"
	"fmt"
	"strconv"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

// Serial sandboxes (spec.taskConcurrency: Serial) run one task at a time in
// creation order. Creation order is creationTimestamp, then the task's
// creation revision, then its name. creationTimestamp has one-second
// resolution; the revision (resourceVersion) a task had when the operator
// first saw it orders tasks created within the same second, as the API
// server stored them. A task nobody wrote since its create still carries
// that revision after an operator restart.

// creationOrder remembers the first revision seen of each task.
type creationOrder struct {
	mu    sync.Mutex
	first map[types.UID]uint64
}

func newCreationOrder() *creationOrder {
	return &creationOrder{first: map[types.UID]uint64{}}
}

// revision is the first resourceVersion seen of t (0 when not numeric).
func (o *creationOrder) revision(t *arlv1.Task) uint64 {
	rv, _ := strconv.ParseUint(t.ResourceVersion, 10, 64)
	o.mu.Lock()
	defer o.mu.Unlock()
	if first, ok := o.first[t.UID]; ok && (first <= rv || rv == 0) {
		return first
	}
	o.first[t.UID] = rv
	return rv
}

// forget drops a deleted task.
func (o *creationOrder) forget(uid types.UID) {
	o.mu.Lock()
	delete(o.first, uid)
	o.mu.Unlock()
}

// compare orders a before b (negative) in creation order.
func (o *creationOrder) compare(a, b *arlv1.Task) int {
	if c := a.CreationTimestamp.Compare(b.CreationTimestamp.Time); c != 0 {
		return c
	}
	if c := cmp.Compare(o.revision(a), o.revision(b)); c != 0 {
		return c
	}
	return cmp.Compare(a.Name, b.Name)
}

// firstInLine reports whether task may start in a Serial sandbox: no other
// unfinished task of the sandbox (siblings, task itself may be among them)
// comes before it.
func (o *creationOrder) firstInLine(task *arlv1.Task, siblings []arlv1.Task) bool {
	for i := range siblings {
		s := &siblings[i]
		if s.UID == task.UID || s.IsFinished() || s.DeletionTimestamp != nil {
			continue
		}
		if o.compare(s, task) < 0 {
			return false
		}
	}
	return true
}

// serialTurn reports whether task may start now: always in a Parallel
// sandbox; in a Serial one only when it is first in line.
func (r *TaskReconciler) serialTurn(ctx context.Context, task *arlv1.Task, sandbox *arlv1.Sandbox) (bool, error) {
	serial, err := r.isSerial(ctx, sandbox)
	if err != nil || !serial {
		return !serial, err
	}
	siblings, err := r.siblings(ctx, task.Namespace, task.Spec.SandboxRef)
	if err != nil {
		return false, err
	}
	return r.order.firstInLine(task, siblings), nil
}

func (r *TaskReconciler) isSerial(ctx context.Context, sandbox *arlv1.Sandbox) (bool, error) {
	if sandbox.Spec.TaskConcurrency != "" {
		return sandbox.Spec.TaskConcurrency == arlv1.TaskConcurrencySerial, nil
	}
	var pool arlv1.WarmPool
	err := r.Client.Get(ctx, types.NamespacedName{Namespace: sandbox.Namespace, Name: sandbox.Spec.PoolRef}, &pool)
	switch {
	case apierrors.IsNotFound(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("get warmpool %s: %w", sandbox.Spec.PoolRef, err)
	}
	return arlv1.EffectiveTaskConcurrency(sandbox, &pool) == arlv1.TaskConcurrencySerial, nil
}

func (r *TaskReconciler) siblings(ctx context.Context, namespace, sandbox string) ([]arlv1.Task, error) {
	var tasks arlv1.TaskList
	if err := r.Client.List(ctx, &tasks, client.InNamespace(namespace),
		client.MatchingFields{arlv1.TaskSandboxRefField: sandbox}); err != nil {
		return nil, fmt.Errorf("list tasks of sandbox %s: %w", sandbox, err)
	}
	return tasks.Items, nil
}

// nextInLine maps a task that finished or went away to the task of its
// sandbox that may start now, when the sandbox is Serial.
func (r *TaskReconciler) nextInLine(ctx context.Context, obj client.Object) []reconcile.Request {
	done, ok := obj.(*arlv1.Task)
	if !ok {
		return nil
	}
	if done.IsFinished() || done.DeletionTimestamp != nil {
		r.order.forget(done.UID)
	}
	sandbox, err := r.sandboxOf(ctx, done)
	if err != nil || sandbox == nil {
		return nil
	}
	if serial, err := r.isSerial(ctx, sandbox); err != nil || !serial {
		return nil
	}
	siblings, err := r.siblings(ctx, done.Namespace, done.Spec.SandboxRef)
	if err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "list the tasks of a serial sandbox", "sandbox", sandbox.Name)
		return nil
	}
	var next *arlv1.Task
	for i := range siblings {
		s := &siblings[i]
		if s.UID == done.UID || s.IsFinished() || s.DeletionTimestamp != nil {
			continue
		}
		if next == nil || r.order.compare(s, next) < 0 {
			next = s
		}
	}
	if next == nil {
		return nil
	}
	return []reconcile.Request{{NamespacedName: client.ObjectKeyFromObject(next)}}
}

// taskFinishedOrGone passes the events that can let a Serial sandbox's next
// task start: a task's move to finished, and its deletion.
var taskFinishedOrGone = predicate.Funcs{
	CreateFunc:  func(event.CreateEvent) bool { return false },
	GenericFunc: func(event.GenericEvent) bool { return false },
	DeleteFunc:  func(event.DeleteEvent) bool { return true },
	UpdateFunc: func(e event.UpdateEvent) bool {
		old, oldOK := e.ObjectOld.(*arlv1.Task)
		cur, curOK := e.ObjectNew.(*arlv1.Task)
		return oldOK && curOK && ((!old.IsFinished() && cur.IsFinished()) ||
			(old.DeletionTimestamp == nil && cur.DeletionTimestamp != nil))
	},
}
