// Package sandbox holds the Sandbox controller: it gives each sandbox one
// idle, Ready pod of its pool and reports the pod's readiness.
//
// A sandbox's pod is never reused: binding moves the pod's controller
// reference from the WarmPool to the Sandbox, so deleting the sandbox
// deletes the pod (garbage collection) and the pool creates a fresh one.
// One user's files and processes therefore never reach the next sandbox,
// with no wipe step to get wrong.
//
// Allocation costs one write on the critical path: the pod is promised to
// the sandbox in memory (poolpod.PodClaims, shared with the WarmPool controller),
// then the sandbox's status (Ready, podName) and the pod's bind are written
// in parallel. Until the bind lands, the promise keeps the pod from other
// sandboxes and from its pool; after an operator restart, the sandbox's
// status naming the pod does (an index on status.podName), and the next
// pass finishes the bind. A pod whose bind cannot land (deleted or changed
// by someone else) fails its sandbox; a promised pod of a sandbox deleted
// before the bind landed is deleted, never returned to the pool.
package sandbox

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
	"github.com/arl-infra/arl/operator/internal/activity"
	"github.com/arl-infra/arl/operator/internal/poolpod"
)

// raceRetryDelay is the pause before retrying an allocation whose every
// candidate was taken concurrently (the cache needs a moment to catch up).
const raceRetryDelay = 10 * time.Millisecond

// SandboxReconciler binds pods to Sandboxes and reports their state.
type SandboxReconciler struct {
	client.Client
	// Recorder emits events; nil turns them off.
	Recorder events.EventRecorder
	// Pods must match the WarmPool reconciler's, so the template hashes agree.
	Pods poolpod.PodConfig
	// Workers is the number of concurrent reconciles.
	Workers int

	// Claims must be the WarmPool reconciler's, so a pool never deletes a
	// pod promised to a sandbox; nil gives the reconciler its own.
	Claims *poolpod.PodClaims
	// Live reads from the API server (the manager's APIReader) in the rare
	// case the cache and a failed bind disagree; nil reads the cache.
	Live client.Reader
	// LastTaskTimeInterval spaces a keep-alive sandbox's status.lastTaskTime
	// writes at least this far apart (capped at a tenth of its
	// idleTimeoutSeconds); 0 writes each newer time at once.
	LastTaskTimeInterval time.Duration
	// TaskTimes must be the TTL controller's, so the idle clock counts the
	// task times not written yet; nil gives the reconciler its own.
	TaskTimes *activity.TaskTimes

	once          sync.Once
	alloc         *allocator
	written       *writtenStatuses
	lastTaskTimes *lastTaskTimeWrites
	firstSeen     sync.Map // sandbox UID -> time.Time
}

// +kubebuilder:rbac:groups=arl.infra.io,resources=sandboxes,verbs=get;list;watch
// +kubebuilder:rbac:groups=arl.infra.io,resources=sandboxes/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=arl.infra.io,resources=warmpools,verbs=get;list;watch
// +kubebuilder:rbac:groups=arl.infra.io,resources=tasks,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch;patch;delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile gives a pending sandbox a pod, follows the pod's state, and
// keeps status.lastTaskTime (at most one write per LastTaskTimeInterval).
func (r *SandboxReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	r.init()
	sb := &arlv1.Sandbox{}
	if err := r.Get(ctx, req.NamespacedName, sb); err != nil {
		if apierrors.IsNotFound(err) {
			r.forget(req.NamespacedName)
			return ctrl.Result{}, r.alloc.sandboxGone(ctx, req.NamespacedName)
		}
		return ctrl.Result{}, err
	}
	if sb.DeletionTimestamp != nil {
		r.firstSeen.Delete(sb.UID)
		r.forget(req.NamespacedName)
		return ctrl.Result{}, r.alloc.sandboxGone(ctx, req.NamespacedName)
	}
	r.written.catchUp(sb)

	obs := observation{poolFound: true}
	var (
		workErr error
		requeue bool
		toBind  *bindJob
	)
	switch {
	case sb.Status.PodName != "":
		obs.pod, obs.podMissing, workErr = r.getPod(ctx, sb.Namespace, sb.Status.PodName)
		if obs.pod != nil && workErr == nil {
			obs.podLost, workErr = r.ensureBound(ctx, sb, obs.pod)
		}
	case sb.Status.Phase != arlv1.SandboxPhaseFailed:
		obs.pod, obs.poolFound, toBind, requeue, workErr = r.findOrPick(ctx, sb)
		if obs.pod != nil && sb.Status.AllocationTime == nil {
			now := metav1.Now()
			obs.allocatedAt = &now
		}
	}

	// Read-only: a busy sandbox has many tasks, and copying each of them on
	// every task event was a quarter of the operator's CPU.
	var tasks arlv1.TaskList
	if err := r.List(ctx, &tasks, client.InNamespace(sb.Namespace),
		client.MatchingFields{arlv1.TaskSandboxRefField: sb.Name}, client.UnsafeDisableDeepCopy); err != nil {
		workErr = errors.Join(workErr, fmt.Errorf("list tasks of sandbox %s: %w", sb.Name, err))
	} else {
		obs.lastTaskTime = laterOf(lastTaskTime(tasks.Items), r.TaskTimes.Latest(req.NamespacedName, sb.UID))
	}

	status, lastTaskTimeWait := r.coalesceLastTaskTime(sb, computeStatus(sb, obs), time.Now())
	previous := *sb.Status.DeepCopy()
	var (
		wrote     bool
		statusErr error
	)
	if toBind != nil {
		var bindRetry bool
		wrote, statusErr, bindRetry = r.writeStatusAndBind(ctx, sb, status, toBind)
		requeue = requeue || bindRetry
	} else {
		wrote, statusErr = r.updateStatus(ctx, sb, status)
	}
	if wrote {
		// Only a transition that was stored gets an event (not one computed
		// from a cached sandbox that was deleted meanwhile).
		r.recordTransition(sb, previous, status)
	}
	if err := errors.Join(workErr, statusErr); err != nil {
		return ctrl.Result{}, err
	}
	if requeue {
		// A promised pod was taken meanwhile: retry once the cache caught up.
		return ctrl.Result{RequeueAfter: raceRetryDelay}, nil
	}
	// A held-back lastTaskTime is written when due.
	return ctrl.Result{RequeueAfter: lastTaskTimeWait}, nil
}

// forget drops what this process remembers of a sandbox that is gone.
func (r *SandboxReconciler) forget(key types.NamespacedName) {
	r.written.forget(key)
	r.lastTaskTimes.take(key)
	r.TaskTimes.Forget(key)
}

func (r *SandboxReconciler) init() {
	r.once.Do(func() {
		if r.Claims == nil {
			r.Claims = poolpod.NewPodClaims()
		}
		if r.Live == nil {
			r.Live = r.Client
		}
		if r.alloc == nil {
			r.alloc = newAllocator(r.Client, r.Pods, r.Claims)
		}
		if r.written == nil {
			r.written = newWrittenStatuses()
		}
		if r.lastTaskTimes == nil {
			r.lastTaskTimes = newLastTaskTimeWrites()
		}
		if r.TaskTimes == nil {
			r.TaskTimes = activity.NewTaskTimes()
		}
	})
}

// getPod reads the sandbox's pod from the cache; missing reports it gone.
func (r *SandboxReconciler) getPod(ctx context.Context, namespace, name string) (*corev1.Pod, bool, error) {
	pod := &corev1.Pod{}
	err := r.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, pod)
	switch {
	case err == nil:
		return pod, false, nil
	case apierrors.IsNotFound(err):
		return nil, true, nil
	default:
		return nil, false, fmt.Errorf("get pod %s: %w", name, err)
	}
}

// bindJob is a pod promised to a sandbox whose bind is still to be written.
type bindJob struct {
	pool *arlv1.WarmPool
	pod  *corev1.Pod
}

// findOrPick returns the sandbox's pod: one this process already bound to
// it, one an earlier run of the operator bound to it, or a newly promised
// idle pod (with the bind to write). poolFound is false when the pool does
// not exist; requeue asks for a quick retry after a lost race.
func (r *SandboxReconciler) findOrPick(ctx context.Context, sb *arlv1.Sandbox) (pod *corev1.Pod, poolFound bool, toBind *bindJob, requeue bool, err error) {
	if p, ok := r.alloc.promised(sb); ok && p.bound {
		pod, _, err := r.getPod(ctx, p.pod.Namespace, p.pod.Name)
		if err != nil || pod != nil {
			return pod, true, nil, false, err
		}
	}
	if pod, err := r.findBoundPod(ctx, sb); err != nil || pod != nil {
		return pod, true, nil, false, err
	}

	pool := &arlv1.WarmPool{}
	if err := r.Get(ctx, types.NamespacedName{Namespace: sb.Namespace, Name: sb.Spec.PoolRef}, pool); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, false, nil, false, nil
		}
		return nil, false, nil, false, fmt.Errorf("get warmpool %s: %w", sb.Spec.PoolRef, err)
	}
	seen, _ := r.firstSeen.LoadOrStore(sb.UID, time.Now())
	pod, err = r.alloc.pick(ctx, sb, pool)
	switch {
	case errors.Is(err, errAllocationRace):
		return nil, true, nil, true, nil
	case err != nil:
		return nil, true, nil, false, err
	case pod != nil:
		allocationSeconds.Observe(time.Since(seen.(time.Time)).Seconds())
		r.firstSeen.Delete(sb.UID)
		return pod, true, &bindJob{pool: pool, pod: pod}, false, nil
	}
	return nil, true, nil, false, nil
}

// writeStatusAndBind writes the status naming a newly promised pod and the
// pod's bind in parallel. retry asks for a quick new pass: the bind lost
// to someone else, and the next pass finds out what became of the pod.
func (r *SandboxReconciler) writeStatusAndBind(ctx context.Context, sb *arlv1.Sandbox, status arlv1.SandboxStatus, job *bindJob) (wrote bool, err error, retry bool) {
	owner := sb.DeepCopy() // the status write decodes into sb meanwhile
	bound := make(chan error, 1)
	go func() { bound <- r.alloc.bind(ctx, owner, job.pool, job.pod) }()
	wrote, statusErr := r.updateStatus(ctx, sb, status)
	bindErr := <-bound
	named := wrote || (statusErr == nil && sb.Status.PodName == job.pod.Name)
	switch {
	case bindErr == nil:
		log.FromContext(ctx).V(1).Info("bound pod", "pod", job.pod.Name)
		return wrote, statusErr, false
	case !named:
		// Neither write named the pod anywhere: it returns to the pool.
		r.alloc.withdraw(sb, job.pod)
		if lostBindRace(bindErr) {
			allocationConflicts.Inc()
			return wrote, statusErr, true
		}
		return wrote, errors.Join(statusErr, fmt.Errorf("bind pod %s to sandbox %s: %w", job.pod.Name, sb.Name, bindErr)), false
	case lostBindRace(bindErr):
		allocationConflicts.Inc()
		return wrote, statusErr, true
	default:
		// The status names the pod; the next pass retries the bind.
		return wrote, errors.Join(statusErr, fmt.Errorf("bind pod %s to sandbox %s: %w", job.pod.Name, sb.Name, bindErr)), false
	}
}

// ensureBound makes sure the pod named by sb's status is bound to it,
// finishing a bind that an earlier pass or an earlier run of the operator
// did not. lost reports a pod that someone else took or changed first.
func (r *SandboxReconciler) ensureBound(ctx context.Context, sb *arlv1.Sandbox, pod *corev1.Pod) (lost bool, err error) {
	if metav1.IsControlledBy(pod, sb) {
		r.alloc.settled(sb)
		return false, nil
	}
	if p, ok := r.alloc.promised(sb); ok && p.bound && p.podUID == pod.UID {
		return false, nil // bound; the cache has not caught up
	}
	if pod.DeletionTimestamp != nil || pod.Labels[arlv1.LabelState] != arlv1.PodStateIdle {
		return r.boundElsewhere(ctx, sb, pod)
	}
	pool := &arlv1.WarmPool{}
	if err := r.Get(ctx, types.NamespacedName{Namespace: sb.Namespace, Name: sb.Spec.PoolRef}, pool); err != nil {
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, fmt.Errorf("get warmpool %s: %w", sb.Spec.PoolRef, err)
	}
	if !r.Claims.ForSandbox(pod.UID, sb.UID) {
		return true, nil
	}
	err = r.alloc.bind(ctx, sb.DeepCopy(), pool, pod)
	switch {
	case err == nil:
		log.FromContext(ctx).Info("finished binding the pod named by the sandbox's status", "pod", pod.Name)
		return false, nil
	case lostBindRace(err):
		return r.boundElsewhere(ctx, sb, pod)
	default:
		return false, fmt.Errorf("bind pod %s to sandbox %s: %w", pod.Name, sb.Name, err)
	}
}

// boundElsewhere asks the API server whether pod, which the cache shows
// unbound, is bound to sb after all; if not, the pod is lost to sb.
func (r *SandboxReconciler) boundElsewhere(ctx context.Context, sb *arlv1.Sandbox, cached *corev1.Pod) (bool, error) {
	live := &corev1.Pod{}
	if err := r.Live.Get(ctx, client.ObjectKeyFromObject(cached), live); err != nil {
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, fmt.Errorf("get pod %s: %w", cached.Name, err)
	}
	return live.UID != cached.UID || !metav1.IsControlledBy(live, sb), nil
}

// findBoundPod finds a pod labelled for sb and controlled by it.
func (r *SandboxReconciler) findBoundPod(ctx context.Context, sb *arlv1.Sandbox) (*corev1.Pod, error) {
	var pods corev1.PodList
	if err := r.List(ctx, &pods, client.InNamespace(sb.Namespace),
		client.MatchingFields{arlv1.PodSandboxField: sb.Name}); err != nil {
		return nil, fmt.Errorf("list pods bound to sandbox %s: %w", sb.Name, err)
	}
	for i := range pods.Items {
		if metav1.IsControlledBy(&pods.Items[i], sb) {
			return &pods.Items[i], nil
		}
	}
	return nil, nil
}

// recordTransition emits one event per phase or reason change from
// previous to status.
func (r *SandboxReconciler) recordTransition(sb *arlv1.Sandbox, previous, status arlv1.SandboxStatus) {
	if r.Recorder == nil {
		return
	}
	oldReason, newReason := readyReason(previous), readyReason(status)
	if previous.Phase == status.Phase && oldReason == newReason {
		return
	}
	if previous.PodName == "" && status.PodName != "" {
		// One event for the common case of a pod that is Ready when taken.
		ready := ""
		if newReason == arlv1.SandboxReasonSidecarReady {
			ready = ", Ready at " + status.PodIP
		}
		r.Recorder.Eventf(sb, nil, corev1.EventTypeNormal, arlv1.EventReasonAllocated, "Allocate", "allocated pod %s%s", status.PodName, ready)
		if ready != "" {
			return
		}
	}
	switch newReason {
	case arlv1.SandboxReasonSidecarReady:
		r.Recorder.Eventf(sb, nil, corev1.EventTypeNormal, arlv1.EventReasonSandboxReady, "Ready", "pod %s is Ready at %s", status.PodName, status.PodIP)
	case arlv1.SandboxReasonWaitingForPool:
		r.Recorder.Eventf(sb, nil, corev1.EventTypeNormal, arlv1.EventReasonWaitingForPool, "Allocate", "WarmPool %s has no idle Ready pod; waiting", sb.Spec.PoolRef)
	case arlv1.SandboxReasonPoolNotFound:
		r.Recorder.Eventf(sb, nil, corev1.EventTypeWarning, arlv1.EventReasonPoolNotFound, "Allocate", "WarmPool %s not found", sb.Spec.PoolRef)
	case arlv1.SandboxReasonPodLost:
		r.Recorder.Eventf(sb, nil, corev1.EventTypeWarning, arlv1.EventReasonPodLost, "Watch", "pod %s was deleted; the sandbox failed", status.PodName)
	case arlv1.SandboxReasonPodFailed:
		r.Recorder.Eventf(sb, nil, corev1.EventTypeWarning, arlv1.EventReasonPodFailed, "Watch", "pod %s failed; the sandbox failed", status.PodName)
	}
}

func readyReason(st arlv1.SandboxStatus) string {
	for _, c := range st.Conditions {
		if c.Type == arlv1.SandboxConditionReady {
			return c.Reason
		}
	}
	return ""
}

// updateStatus writes the status when it changed, as one merge patch, and
// remembers it until the cache shows it. wrote reports a stored change.
func (r *SandboxReconciler) updateStatus(ctx context.Context, sb *arlv1.Sandbox, status arlv1.SandboxStatus) (wrote bool, err error) {
	if equality.Semantic.DeepEqual(sb.Status, status) {
		return false, nil
	}
	patch := client.MergeFrom(sb.DeepCopy())
	sb.Status = status
	if err := r.Status().Patch(ctx, sb, patch); err != nil {
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return false, fmt.Errorf("patch status of sandbox %s/%s: %w", sb.Namespace, sb.Name, err)
	}
	statusWrites.Inc()
	r.written.remember(sb)
	return true, nil
}

// SetupWithManager watches Sandboxes, their pods, the pods becoming idle and
// Ready in a pool (for waiting sandboxes), WarmPools and Tasks.
func (r *SandboxReconciler) SetupWithManager(mgr ctrl.Manager) error {
	r.init()
	return ctrl.NewControllerManagedBy(mgr).
		For(&arlv1.Sandbox{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&corev1.Pod{}, &podHandler{reader: mgr.GetClient()}).
		Watches(&arlv1.WarmPool{}, handler.EnqueueRequestsFromMapFunc(r.waitingSandboxesOfPool),
			builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&arlv1.Task{}, handler.EnqueueRequestsFromMapFunc(r.sandboxOfTask),
			builder.WithPredicates(taskTimesChanged())).
		WithOptions(controller.Options{MaxConcurrentReconciles: max(r.Workers, 1)}).
		Named("sandbox").
		Complete(r)
}
