package ttl

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
	"github.com/arl-infra/arl/operator/internal/activity"
)

// +kubebuilder:rbac:groups=arl.infra.io,resources=sandboxes,verbs=get;list;watch;delete

// SandboxTTLReconciler deletes one-shot sandboxes whose task finished and
// sandboxes idle past their idleTimeoutSeconds.
type SandboxTTLReconciler struct {
	Client client.Client
	// Recorder emits events; nil turns them off.
	Recorder events.EventRecorder
	// TaskTimes must be the Sandbox controller's: the task times it has not
	// written to status.lastTaskTime yet count in the idle time. nil: only
	// the status and the cached tasks count.
	TaskTimes *activity.TaskTimes
}

// Reconcile judges one sandbox from its tasks in the cache.
func (r *SandboxTTLReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var sandbox arlv1.Sandbox
	if err := r.Client.Get(ctx, req.NamespacedName, &sandbox); err != nil {
		if apierrors.IsNotFound(err) {
			r.TaskTimes.Forget(req.NamespacedName) // a late task event of a deleted sandbox
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, err
	}
	if sandbox.Spec.KeepAlive && sandbox.Spec.IdleTimeoutSeconds == nil {
		return ctrl.Result{}, nil
	}
	var tasks arlv1.TaskList
	if err := r.Client.List(ctx, &tasks, client.InNamespace(sandbox.Namespace),
		client.MatchingFields{arlv1.TaskSandboxRefField: sandbox.Name}); err != nil {
		return ctrl.Result{}, fmt.Errorf("list tasks of sandbox: %w", err)
	}
	now := time.Now()
	v := judgeSandbox(&sandbox, tasks.Items, r.TaskTimes.Latest(req.NamespacedName, sandbox.UID), now)
	if !v.delete {
		if v.recheckAt.IsZero() {
			return ctrl.Result{}, nil
		}
		return ctrl.Result{RequeueAfter: v.recheckAt.Sub(now)}, nil
	}
	err := r.Client.Delete(ctx, &sandbox, client.Preconditions{UID: &sandbox.UID})
	if apierrors.IsNotFound(err) {
		return ctrl.Result{}, nil
	}
	if err != nil {
		r.event(&sandbox, nil, corev1.EventTypeWarning, arlv1.EventReasonDeleteFailed, "Delete", "%s: %v", v.reason, err)
		return ctrl.Result{}, fmt.Errorf("delete sandbox (%s): %w", v.reason, err)
	}
	ctrl.LoggerFrom(ctx).Info("deleted a sandbox", "reason", v.reason)
	r.event(&sandbox, nil, corev1.EventTypeNormal, v.reason, "Delete", "%s", v.message)
	return ctrl.Result{}, nil
}

// event records an event unless events are off (nil Recorder).
func (r *SandboxTTLReconciler) event(regarding, related runtime.Object, eventtype, reason, action, note string, args ...any) {
	if r.Recorder != nil {
		r.Recorder.Eventf(regarding, related, eventtype, reason, action, note, args...)
	}
}
