// Package warmpool holds the WarmPool controller: it keeps spec.replicas idle,
// Ready pods per pool, each with its own sidecar token Secret.
//
// A pool's status is a summary written at most once per
// StatusWriteInterval (1 s by default): the first change after a quiet
// interval is written at once, a burst of changes (pods taken and refilled
// while sandboxes come and go) is written as one. Sandboxes never wait on
// it: they watch the pods.
package warmpool

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	utilrand "k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/log"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
	"github.com/arl-infra/arl/operator/internal/poolpod"
)

// maxParallelCreates bounds the pod creations of one pass in flight at once.
const maxParallelCreates = 16

// WarmPoolReconciler keeps each WarmPool's idle pods.
type WarmPoolReconciler struct {
	client.Client
	Scheme *runtime.Scheme
	// Recorder emits events; nil turns them off.
	Recorder events.EventRecorder
	// Pods is what the operator injects into every pod.
	Pods poolpod.PodConfig
	// Workers is the number of concurrent reconciles.
	Workers int
	// StatusWriteInterval is the shortest time between two status writes of
	// one pool; 0 means defaultStatusWriteInterval.
	StatusWriteInterval time.Duration
	// Claims must be the Sandbox reconciler's: the pool leaves pods promised
	// to a sandbox alone and claims the pods it deletes; nil gives the
	// reconciler its own.
	Claims *poolpod.PodClaims

	expectations *expectations
	throttle     *statusThrottle
	once         sync.Once
}

// +kubebuilder:rbac:groups=arl.infra.io,resources=warmpools,verbs=get;list;watch
// +kubebuilder:rbac:groups=arl.infra.io,resources=warmpools/status,verbs=get;update;patch
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch;create;delete
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;create;delete
// +kubebuilder:rbac:groups=arl.infra.io,resources=sandboxes,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile creates, replaces and deletes the idle pods of one pool and
// writes its status.
func (r *WarmPoolReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	r.init()
	logger := log.FromContext(ctx)
	key := req.String()

	pool := &arlv1.WarmPool{}
	if err := r.Get(ctx, req.NamespacedName, pool); err != nil {
		if apierrors.IsNotFound(err) {
			r.expectations.Forget(key)
			r.throttle.forget(key)
			forgetPoolMetrics(req.Namespace, req.Name)
			return ctrl.Result{}, r.deleteAllocatedPods(ctx, req.Namespace, req.Name)
		}
		return ctrl.Result{}, fmt.Errorf("get warmpool %s: %w", key, err)
	}
	if pool.DeletionTimestamp != nil {
		// Garbage collection removes the pool's pods and Secrets.
		return ctrl.Result{}, nil
	}

	// Read-only (the cache's own objects, never modified here): a pass runs
	// on every event of the pool's pods, and a deep copy of them all each
	// time costs O(pool size) per event.
	var pods corev1.PodList
	if err := r.List(ctx, &pods, client.InNamespace(pool.Namespace),
		client.MatchingFields{arlv1.PodPoolField: pool.Name}, client.UnsafeDisableDeepCopy); err != nil {
		return ctrl.Result{}, fmt.Errorf("list pods of warmpool %s: %w", key, err)
	}
	hash := poolpod.TemplateHash(pool, r.Pods)
	taken, err := r.takenPods(ctx, pods.Items)
	if err != nil {
		return ctrl.Result{}, err
	}
	sets := classifyPods(pool, pods.Items, hash, taken)

	var passErr error
	invalidTemplate := false
	satisfied := r.expectations.Satisfied(key)
	if satisfied {
		plan := planScale(sets, pool.DesiredReplicas())
		if err := r.deletePods(ctx, pool, plan.delete); err != nil {
			passErr = err
		}
		if plan.create > 0 {
			if _, err := poolpod.BuildPod(pool, "probe", hash, r.Pods); err != nil {
				passErr, invalidTemplate = err, true
			} else if err := r.createPods(ctx, pool, plan.create, hash); err != nil {
				passErr = errors.Join(passErr, err)
			}
		}
	} else {
		logger.V(1).Info("waiting for the cache to show earlier pod writes")
	}

	recordPoolMetrics(pool, sets)
	wasPullFailed := readyReason(pool.Status) == arlv1.WarmPoolReasonImagePullFailed
	status := computeStatus(pool, sets, passErr, invalidTemplate)
	statusDelay, statusErr := r.updateStatus(ctx, key, pool, status)
	if statusDelay == 0 && statusErr == nil && !wasPullFailed && readyReason(status) == arlv1.WarmPoolReasonImagePullFailed {
		// Once per turn to ImagePullFailed, as the status shows it.
		cond := meta.FindStatusCondition(status.Conditions, arlv1.WarmPoolConditionReady)
		r.event(pool, corev1.EventTypeWarning, arlv1.EventReasonImagePullFailed, "PullImage", "%s", cond.Message)
	}
	var result ctrl.Result
	if statusDelay > 0 {
		// The status write waits for the throttle; this pass writes it then.
		result.RequeueAfter = statusDelay
	}
	if invalidTemplate {
		// Retrying cannot help until the template changes, which triggers a pass.
		return result, statusErr
	}
	if err := errors.Join(passErr, statusErr); err != nil {
		return ctrl.Result{}, err
	}
	if !satisfied && result.RequeueAfter == 0 {
		// Watch events normally end the wait; this bounds it if one is lost.
		result.RequeueAfter = expectationTimeout
	}
	return result, nil
}

func (r *WarmPoolReconciler) init() {
	r.once.Do(func() {
		if r.Claims == nil {
			r.Claims = poolpod.NewPodClaims()
		}
		if r.expectations == nil {
			r.expectations = newExpectations()
		}
		if r.throttle == nil {
			interval := r.StatusWriteInterval
			if interval <= 0 {
				interval = defaultStatusWriteInterval
			}
			r.throttle = newStatusThrottle(interval)
		}
	})
}

// createPods creates n pods (each after its token Secret), in parallel.
func (r *WarmPoolReconciler) createPods(ctx context.Context, pool *arlv1.WarmPool, n int, hash string) error {
	key := client.ObjectKeyFromObject(pool).String()
	r.expectations.Expect(key, n, 0)
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		errs    []error
		created int
	)
	sem := make(chan struct{}, maxParallelCreates)
	for range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			err := r.createPod(ctx, pool, hash)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				// This pod will never show up in the cache.
				r.expectations.CreationObserved(key)
				return
			}
			created++
		}()
	}
	wg.Wait()
	if created > 0 {
		r.event(pool, corev1.EventTypeNormal, arlv1.EventReasonPodCreated, "CreatePods", "created %d idle pod(s)", created)
	}
	if len(errs) > 0 {
		err := errors.Join(errs...)
		r.event(pool, corev1.EventTypeWarning, arlv1.EventReasonPodCreateFailed, "CreatePods", "%d pod(s) not created: %v", len(errs), errs[0])
		return fmt.Errorf("create pods of warmpool %s: %w", key, err)
	}
	return nil
}

// createPod creates one pod named <pool>-<random5>, and before it the Secret
// holding its sidecar token (when the pool uses tokens), whose uid the pod
// carries in its AnnotationTokenSecretUID annotation.
func (r *WarmPoolReconciler) createPod(ctx context.Context, pool *arlv1.WarmPool, hash string) error {
	for attempt := 0; ; attempt++ {
		name := pool.Name + "-" + utilrand.String(5)
		pod, err := poolpod.BuildPod(pool, name, hash, r.Pods)
		if err != nil {
			return err
		}
		if pool.TokenAuth() {
			secret, err := BuildTokenSecret(pool, name)
			if err != nil {
				return err
			}
			if err := r.Create(ctx, secret); err != nil {
				if apierrors.IsAlreadyExists(err) && attempt < 3 {
					continue
				}
				return fmt.Errorf("create token secret %s: %w", name, err)
			}
			// The Task controller sends a token only from the Secret
			// this pod names by uid: never from one made by someone else
			// under the pod's name.
			pod.Annotations[arlv1.AnnotationTokenSecretUID] = string(secret.UID)
		}
		err = r.Create(ctx, pod)
		if err == nil {
			return nil
		}
		if pool.TokenAuth() {
			r.deleteSecret(ctx, pool.Namespace, name)
		}
		if apierrors.IsAlreadyExists(err) && attempt < 3 {
			continue
		}
		return fmt.Errorf("create pod %s: %w", name, err)
	}
}

// deletePods deletes idle pods, each only if it is unchanged since the cache
// saw it (a Sandbox may just have taken it), and their token Secrets.
func (r *WarmPoolReconciler) deletePods(ctx context.Context, pool *arlv1.WarmPool, pods []*corev1.Pod) error {
	if len(pods) == 0 {
		return nil
	}
	key := client.ObjectKeyFromObject(pool).String()
	r.expectations.Expect(key, 0, len(pods))
	var errs []error
	deleted := 0
	for _, pod := range pods {
		if !r.Claims.ForDeletion(pod.UID) {
			// Just promised to a Sandbox: the next pass decides again.
			r.expectations.DeletionObserved(key)
			continue
		}
		rv := pod.ResourceVersion
		err := r.Delete(ctx, pod, client.Preconditions{UID: &pod.UID, ResourceVersion: &rv})
		switch {
		case err == nil:
			deleted++
			r.deleteSecret(ctx, pod.Namespace, pod.Name)
		case apierrors.IsNotFound(err):
			r.expectations.DeletionObserved(key)
		case apierrors.IsConflict(err):
			// Taken by a Sandbox or changed meanwhile: the next pass decides again.
			r.Claims.Release(pod.UID)
			r.expectations.DeletionObserved(key)
		default:
			r.Claims.Release(pod.UID)
			r.expectations.DeletionObserved(key)
			errs = append(errs, fmt.Errorf("delete pod %s: %w", pod.Name, err))
		}
	}
	if deleted > 0 {
		r.event(pool, corev1.EventTypeNormal, arlv1.EventReasonPodDeleted, "DeletePods", "deleted %d idle pod(s) (failed, outdated or surplus)", deleted)
	}
	return errors.Join(errs...)
}

// takenPods reports the idle-labelled pods that are promised to a
// sandbox: in this process's claims, or named by a sandbox's status whose
// bind has not landed (after an operator restart).
func (r *WarmPoolReconciler) takenPods(ctx context.Context, pods []corev1.Pod) (func(*corev1.Pod) bool, error) {
	taken := map[types.UID]bool{}
	for i := range pods {
		pod := &pods[i]
		if pod.Labels[arlv1.LabelState] != arlv1.PodStateIdle || pod.DeletionTimestamp != nil {
			continue
		}
		if r.Claims.ClaimedForSandbox(pod.UID) {
			taken[pod.UID] = true
			continue
		}
		var named arlv1.SandboxList
		if err := r.List(ctx, &named, client.InNamespace(pod.Namespace),
			client.MatchingFields{arlv1.SandboxPodNameField: pod.Name}, client.UnsafeDisableDeepCopy); err != nil {
			return nil, fmt.Errorf("list sandboxes naming pod %s: %w", pod.Name, err)
		}
		if len(named.Items) > 0 {
			taken[pod.UID] = true
		}
	}
	return func(pod *corev1.Pod) bool { return taken[pod.UID] }, nil
}

// deleteAllocatedPods deletes the pods a deleted pool had handed to
// Sandboxes: "kubectl delete warmpool" deletes all its pods, as the manual
// says (garbage collection removes the idle ones and the token Secrets;
// allocated pods belong to their Sandboxes, which then report PodLost).
func (r *WarmPoolReconciler) deleteAllocatedPods(ctx context.Context, namespace, pool string) error {
	var pods corev1.PodList
	if err := r.List(ctx, &pods, client.InNamespace(namespace),
		client.MatchingFields{arlv1.PodPoolStateField: arlv1.PoolStateKey(pool, arlv1.PodStateAllocated)}); err != nil {
		return fmt.Errorf("list allocated pods of deleted warmpool %s/%s: %w", namespace, pool, err)
	}
	var errs []error
	for i := range pods.Items {
		pod := &pods.Items[i]
		if pod.DeletionTimestamp != nil {
			continue
		}
		if err := r.Delete(ctx, pod, client.Preconditions{UID: &pod.UID}); client.IgnoreNotFound(err) != nil {
			errs = append(errs, fmt.Errorf("delete pod %s: %w", pod.Name, err))
			continue
		}
		log.FromContext(ctx).Info("deleted the pod of a sandbox because its pool was deleted", "pod", pod.Name, "sandbox", pod.Labels[arlv1.LabelSandbox])
	}
	return errors.Join(errs...)
}

// deleteSecret deletes the token Secret of a pod; a missing one is fine.
func (r *WarmPoolReconciler) deleteSecret(ctx context.Context, namespace, podName string) {
	secret := &corev1.Secret{}
	secret.Namespace, secret.Name = namespace, arlv1.SidecarTokenSecretName(podName)
	if err := r.Delete(ctx, secret); err != nil && !apierrors.IsNotFound(err) {
		log.FromContext(ctx).Error(err, "delete token secret", "secret", secret.Name)
	}
}

// updateStatus writes the status when it changed, as one merge patch, unless
// the pool wrote one less than StatusWriteInterval ago: then it returns how
// long to wait before writing.
func (r *WarmPoolReconciler) updateStatus(ctx context.Context, key string, pool *arlv1.WarmPool, status arlv1.WarmPoolStatus) (time.Duration, error) {
	if equality.Semantic.DeepEqual(pool.Status, status) {
		return 0, nil
	}
	if wait := r.throttle.wait(key); wait > 0 {
		return wait, nil
	}
	patch := client.MergeFrom(pool.DeepCopy())
	pool.Status = status
	err := r.Status().Patch(ctx, pool, patch)
	switch {
	case err == nil:
		r.throttle.wrote(key)
		statusWrites.WithLabelValues(pool.Namespace, pool.Name).Inc()
	case !apierrors.IsNotFound(err):
		return 0, fmt.Errorf("patch status of warmpool %s/%s: %w", pool.Namespace, pool.Name, err)
	}
	return 0, nil
}

func (r *WarmPoolReconciler) event(pool *arlv1.WarmPool, eventType, reason, action, format string, args ...any) {
	if r.Recorder == nil {
		return
	}
	r.Recorder.Eventf(pool, nil, eventType, reason, action, format, args...)
}

// SetupWithManager watches WarmPools and the pods labelled with a pool.
func (r *WarmPoolReconciler) SetupWithManager(mgr ctrl.Manager) error {
	r.init()
	return ctrl.NewControllerManagedBy(mgr).
		For(&arlv1.WarmPool{}).
		Watches(&corev1.Pod{}, &podEventHandler{expectations: r.expectations}).
		WithOptions(controller.Options{MaxConcurrentReconciles: max(r.Workers, 1)}).
		Named("warmpool").
		Complete(r)
}
