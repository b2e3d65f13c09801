package sandbox

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
	"github.com/arl-infra/arl/operator/internal/poolpod"
)

type queue = workqueue.TypedRateLimitingInterface[reconcile.Request]

// podHandler maps pod events to sandboxes: a bound pod's changes go to its
// sandbox; an idle pod that becomes Ready wakes the sandboxes waiting on its
// pool.
type podHandler struct {
	reader client.Reader
}

func (h *podHandler) Create(ctx context.Context, e event.TypedCreateEvent[client.Object], q queue) {
	pod, ok := e.Object.(*corev1.Pod)
	if !ok {
		return
	}
	h.enqueueOwner(pod, q)
	if isIdleReady(pod) {
		h.enqueueWaiting(ctx, pod, q)
	}
}

func (h *podHandler) Update(ctx context.Context, e event.TypedUpdateEvent[client.Object], q queue) {
	oldPod, okOld := e.ObjectOld.(*corev1.Pod)
	newPod, okNew := e.ObjectNew.(*corev1.Pod)
	if !okOld || !okNew {
		return
	}
	if newPod.Labels[arlv1.LabelSandbox] != "" && boundPodChanged(oldPod, newPod) {
		h.enqueueOwner(newPod, q)
	}
	if isIdleReady(newPod) && !isIdleReady(oldPod) {
		h.enqueueWaiting(ctx, newPod, q)
	}
}

func (h *podHandler) Delete(_ context.Context, e event.TypedDeleteEvent[client.Object], q queue) {
	if pod, ok := e.Object.(*corev1.Pod); ok {
		h.enqueueOwner(pod, q)
	}
}

func (h *podHandler) Generic(context.Context, event.TypedGenericEvent[client.Object], queue) {}

func (h *podHandler) enqueueOwner(pod *corev1.Pod, q queue) {
	if name := pod.Labels[arlv1.LabelSandbox]; name != "" {
		q.Add(reconcile.Request{NamespacedName: types.NamespacedName{Namespace: pod.Namespace, Name: name}})
	}
}

func (h *podHandler) enqueueWaiting(ctx context.Context, pod *corev1.Pod, q queue) {
	for _, req := range waitingSandboxes(ctx, h.reader, pod.Namespace, pod.Labels[arlv1.LabelPool]) {
		q.Add(req)
	}
}

// isIdleReady: an idle pool pod whose sidecar is Ready.
func isIdleReady(pod *corev1.Pod) bool {
	return pod.Labels[arlv1.LabelPool] != "" && pod.Labels[arlv1.LabelState] == arlv1.PodStateIdle && poolpod.IsPodReady(pod)
}

// boundPodChanged passes the changes a sandbox reports: readiness, IP,
// phase, deletion, labels.
func boundPodChanged(oldPod, newPod *corev1.Pod) bool {
	return poolpod.IsPodReady(oldPod) != poolpod.IsPodReady(newPod) ||
		oldPod.Status.PodIP != newPod.Status.PodIP ||
		oldPod.Status.Phase != newPod.Status.Phase ||
		(oldPod.DeletionTimestamp == nil) != (newPod.DeletionTimestamp == nil) ||
		!equality.Semantic.DeepEqual(oldPod.Labels, newPod.Labels)
}

// waitingSandboxes lists, from the cache through the poolRef index, the
// sandboxes of pool still waiting for a pod.
func waitingSandboxes(ctx context.Context, reader client.Reader, namespace, pool string) []reconcile.Request {
	if pool == "" {
		return nil
	}
	// Read-only: this runs on every event of a pool's pods, and a deep copy
	// of every sandbox of the pool each time costs O(sandboxes) per event.
	var list arlv1.SandboxList
	if err := reader.List(ctx, &list, client.InNamespace(namespace),
		client.MatchingFields{arlv1.SandboxPoolRefField: pool}, client.UnsafeDisableDeepCopy); err != nil {
		log.FromContext(ctx).Error(err, "list sandboxes of pool", "pool", pool)
		return nil
	}
	var reqs []reconcile.Request
	for i := range list.Items {
		if needsPod(&list.Items[i]) {
			reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])})
		}
	}
	return reqs
}

// waitingSandboxesOfPool wakes the sandboxes waiting on a pool that appeared,
// changed or went away.
func (r *SandboxReconciler) waitingSandboxesOfPool(ctx context.Context, obj client.Object) []reconcile.Request {
	return waitingSandboxes(ctx, r.Client, obj.GetNamespace(), obj.GetName())
}

// sandboxOfTask records the task's start or completion time for its
// sandbox (activity.TaskTimes) and maps the Task to the sandbox it names
// when that time is later than the sandbox's status.lastTaskTime and no
// lastTaskTime write is already scheduled: a busy sandbox is reconciled
// about once per write, not once per task event.
func (r *SandboxReconciler) sandboxOfTask(ctx context.Context, obj client.Object) []reconcile.Request {
	task, ok := obj.(*arlv1.Task)
	if !ok || task.Spec.SandboxRef == "" {
		return nil
	}
	// Recorded before the schedule is checked (see coalesceLastTaskTime).
	r.TaskTimes.ObserveTask(task)
	key := types.NamespacedName{Namespace: task.Namespace, Name: task.Spec.SandboxRef}
	var sb arlv1.Sandbox
	if err := r.Get(ctx, key, &sb); err == nil &&
		(!newerThan(lastTaskTime([]arlv1.Task{*task}), sb.Status.LastTaskTime) || r.lastTaskTimes.pending(key)) {
		return nil
	}
	return []reconcile.Request{{NamespacedName: key}}
}

// newerThan reports whether t is set and later than ref (at the API's
// one-second precision).
func newerThan(t, ref *metav1.Time) bool {
	if t == nil {
		return false
	}
	return ref == nil || t.Unix() > ref.Unix()
}

// taskTimesChanged passes task creations and changes of the start or
// completion time (the inputs of status.lastTaskTime).
func taskTimesChanged() predicate.Predicate {
	return predicate.Funcs{
		UpdateFunc: func(e event.UpdateEvent) bool {
			oldTask, okOld := e.ObjectOld.(*arlv1.Task)
			newTask, okNew := e.ObjectNew.(*arlv1.Task)
			if !okOld || !okNew {
				return false
			}
			return !equality.Semantic.DeepEqual(oldTask.Status.StartTime, newTask.Status.StartTime) ||
				!equality.Semantic.DeepEqual(oldTask.Status.CompletionTime, newTask.Status.CompletionTime)
		},
		DeleteFunc: func(event.DeleteEvent) bool { return false },
	}
}
