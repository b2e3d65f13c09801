package task

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
	"github.com/arl-infra/arl/operator/internal/sidecarclient"
)

// +kubebuilder:rbac:groups=arl.infra.io,resources=tasks,verbs=get;list;watch
// +kubebuilder:rbac:groups=arl.infra.io,resources=tasks/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=arl.infra.io,resources=sandboxes,verbs=get;list;watch
// +kubebuilder:rbac:groups=arl.infra.io,resources=warmpools,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// TaskReconciler decides what a Task needs and hands running it to the
// dispatcher's workers; it never waits on a sidecar.
type TaskReconciler struct {
	Client client.Client
	// Live reads around the cache (mgr.GetAPIReader()): the decisions that
	// must not act on a stale Task, and the sidecar token Secrets.
	Live client.Reader
	// Recorder emits events; nil turns them off.
	Recorder events.EventRecorder
	// Options tunes the controller; SetupWithManager fills in the defaults.
	Options Options

	tokens     *sidecarclient.Tokens
	dispatcher *dispatcher
	order      *creationOrder // Serial sandboxes' task order (serial.go)
}

// Reconcile moves one Task along: wait for its sandbox, dispatch an attempt,
// or fail it when an attempt was cut off by an operator stop.
func (r *TaskReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var task arlv1.Task
	if err := r.Client.Get(ctx, req.NamespacedName, &task); err != nil {
		if apierrors.IsNotFound(err) {
			r.dispatcher.forget(req.NamespacedName)
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, fmt.Errorf("get task: %w", err)
	}
	if r.dispatcher.holds(req.NamespacedName, task.UID, task.IsFinished()) {
		return ctrl.Result{}, nil
	}
	sandbox, err := r.sandboxOf(ctx, &task)
	if err != nil {
		return ctrl.Result{}, err
	}
	d := decide(&task, sandbox)
	switch d.kind {
	case actNone:
		return ctrl.Result{}, nil
	case actWait:
		return ctrl.Result{}, r.wait(ctx, &task, d.reason, d.message)
	case actFail:
		return ctrl.Result{}, r.failWithoutRunning(ctx, &task, d)
	case actInterrupted:
		return ctrl.Result{}, r.failInterrupted(ctx, req.NamespacedName, sandbox)
	}
	if d.resumeFrom == 0 {
		// A Serial sandbox's task waits, unwritten, for the ones before it;
		// nextInLine brings it back when its turn comes.
		turn, err := r.serialTurn(ctx, &task, sandbox)
		if err != nil || !turn {
			return ctrl.Result{}, err
		}
	}
	target, err := r.target(ctx, sandbox)
	var refused *refusal
	if errors.As(err, &refused) {
		log.FromContext(ctx).Info("refused to run a task where its sandbox's status points", "sandbox", sandbox.Name, "reason", refused.reason, "message", refused.message)
		refusedTasks.WithLabelValues(refused.reason).Inc()
		return ctrl.Result{}, r.failWithoutRunning(ctx, &task, decision{kind: actFail, reason: refused.reason, message: refused.message})
	}
	if err != nil {
		if werr := r.wait(ctx, &task, arlv1.TaskReasonSandboxNotReady, err.Error()); werr != nil {
			return ctrl.Result{}, werr
		}
		return ctrl.Result{}, err
	}
	err = r.dispatcher.dispatch(job{key: req.NamespacedName, task: task.DeepCopy(), resumeFrom: d.resumeFrom, target: target})
	return ctrl.Result{}, err
}

func (r *TaskReconciler) sandboxOf(ctx context.Context, task *arlv1.Task) (*arlv1.Sandbox, error) {
	var sandbox arlv1.Sandbox
	err := r.Client.Get(ctx, types.NamespacedName{Namespace: task.Namespace, Name: task.Spec.SandboxRef}, &sandbox)
	switch {
	case apierrors.IsNotFound(err):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("get sandbox %s: %w", task.Spec.SandboxRef, err)
	}
	return &sandbox, nil
}

// target is where the sandbox's sidecar listens and the token it wants,
// once the pod and its token Secret are checked to be the sandbox's own
// (trust.go): a *refusal otherwise.
func (r *TaskReconciler) target(ctx context.Context, sandbox *arlv1.Sandbox) (sandboxTarget, error) {
	tg := sandboxTarget{
		addr:       net.JoinHostPort(sandbox.Status.PodIP, strconv.Itoa(r.Options.SidecarPort)),
		namespace:  sandbox.Namespace,
		podName:    sandbox.Status.PodName,
		workDir:    sandbox.Status.WorkDir,
		sandboxUID: sandbox.UID,
	}
	if tg.workDir == "" {
		tg.workDir = arlv1.DefaultWorkDir
	}
	pod, err := r.sandboxPod(ctx, sandbox)
	if err != nil {
		return tg, err
	}
	auth, err := r.tokenAuth(ctx, sandbox)
	if err != nil || !auth {
		return tg, err
	}
	tg.secret = sidecarclient.SecretRefOf(pod)
	tg.token, err = r.tokens.Token(ctx, tg.secret)
	if err != nil {
		return tg, asRefusal(fmt.Errorf("sidecar token of pod %s: %w", sandbox.Status.PodName, err))
	}
	return tg, nil
}

// tokenAuth reports whether the sandbox's pool demands a sidecar token; a
// pool that is gone is assumed to (the safe default).
func (r *TaskReconciler) tokenAuth(ctx context.Context, sandbox *arlv1.Sandbox) (bool, error) {
	var pool arlv1.WarmPool
	err := r.Client.Get(ctx, types.NamespacedName{Namespace: sandbox.Namespace, Name: sandbox.Spec.PoolRef}, &pool)
	switch {
	case apierrors.IsNotFound(err):
		return true, nil
	case err != nil:
		return false, fmt.Errorf("get warmpool %s: %w", sandbox.Spec.PoolRef, err)
	}
	return pool.TokenAuth(), nil
}

// wait records why the task waits; nothing is written when that is already
// what the status says.
func (r *TaskReconciler) wait(ctx context.Context, task *arlv1.Task, reason, message string) error {
	st := waitingStatus(task, reason, message)
	if equality.Semantic.DeepEqual(st, task.Status) {
		return nil
	}
	updated := task.DeepCopy()
	updated.Status = st
	if err := r.Client.Status().Update(ctx, updated); err != nil {
		return ignoreConflict(fmt.Errorf("record that the task waits (%s): %w", reason, err))
	}
	if r.Recorder != nil {
		r.Recorder.Eventf(updated, nil, corev1.EventTypeNormal, arlv1.EventReasonTaskPending, "Wait", "%s", message)
	}
	return nil
}

func (r *TaskReconciler) failWithoutRunning(ctx context.Context, task *arlv1.Task, d decision) error {
	updated := task.DeepCopy()
	updated.Status = failedBeforeRunningStatus(task, d.reason, d.message, time.Now())
	if err := r.Client.Status().Update(ctx, updated); err != nil {
		return ignoreConflict(fmt.Errorf("record that the task failed (%s): %w", d.reason, err))
	}
	if r.Recorder != nil {
		r.Recorder.Eventf(updated, nil, corev1.EventTypeWarning, arlv1.EventReasonTaskFailed, "Run", "%s", d.message)
	}
	return nil
}

// failInterrupted fails a task whose attempt was running in an operator
// that stopped. The cache may be behind, so the decision is taken again on
// the live object and written with its resourceVersion.
func (r *TaskReconciler) failInterrupted(ctx context.Context, key types.NamespacedName, sandbox *arlv1.Sandbox) error {
	var live arlv1.Task
	if err := r.Live.Get(ctx, key, &live); err != nil {
		return client.IgnoreNotFound(err)
	}
	if r.dispatcher.holds(key, live.UID, live.IsFinished()) {
		return nil
	}
	d := decide(&live, sandbox)
	if d.kind != actInterrupted {
		r.dispatcher.requeueLater(&live, 0)
		return nil
	}
	updated := live.DeepCopy()
	updated.Status = interruptedStatus(&live, d.message, time.Now())
	if err := r.Client.Status().Update(ctx, updated); err != nil {
		return ignoreConflict(fmt.Errorf("record that the task was interrupted: %w", err))
	}
	interruptedTasks.Inc()
	log.FromContext(ctx).Info("failed a task interrupted by an operator stop; its steps are not run again", "message", d.message)
	if r.Recorder != nil {
		r.Recorder.Eventf(updated, nil, corev1.EventTypeWarning, arlv1.EventReasonTaskFailed, "Run", "%s", d.message)
	}
	return nil
}

// ignoreConflict drops a write conflict: the cache was behind, and the
// watch event of the newer version brings the task back to Reconcile.
func ignoreConflict(err error) error {
	if apierrors.IsConflict(err) {
		return nil
	}
	return err
}
