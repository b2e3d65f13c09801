package warmpool

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
	"github.com/arl-infra/arl/operator/internal/poolpod"
)

// podEventHandler enqueues the pool named by a pod's pool label and tells
// the expectations about the creations and deletions it sees.
type podEventHandler struct {
	expectations *expectations
}

type queue = workqueue.TypedRateLimitingInterface[reconcile.Request]

func poolRequest(obj client.Object) (reconcile.Request, bool) {
	pool := obj.GetLabels()[arlv1.LabelPool]
	if pool == "" {
		return reconcile.Request{}, false
	}
	return reconcile.Request{NamespacedName: types.NamespacedName{Namespace: obj.GetNamespace(), Name: pool}}, true
}

func (h *podEventHandler) Create(_ context.Context, e event.TypedCreateEvent[client.Object], q queue) {
	if req, ok := poolRequest(e.Object); ok {
		h.expectations.CreationObserved(req.String())
		q.Add(req)
	}
}

func (h *podEventHandler) Update(_ context.Context, e event.TypedUpdateEvent[client.Object], q queue) {
	oldPod, okOld := e.ObjectOld.(*corev1.Pod)
	newPod, okNew := e.ObjectNew.(*corev1.Pod)
	if !okOld || !okNew {
		return
	}
	req, ok := poolRequest(newPod)
	if !ok {
		return
	}
	if oldPod.DeletionTimestamp == nil && newPod.DeletionTimestamp != nil {
		// A graceful deletion: the pod no longer counts, and waiting for it
		// to be gone (up to its grace period) would stall the refill.
		h.expectations.DeletionObserved(req.String())
	}
	if podChangeMatters(oldPod, newPod) {
		q.Add(req)
	}
}

func (h *podEventHandler) Delete(_ context.Context, e event.TypedDeleteEvent[client.Object], q queue) {
	if req, ok := poolRequest(e.Object); ok {
		// A pod deleted gracefully was counted when its deletionTimestamp
		// appeared; only an immediate deletion is observed here.
		if e.Object.GetDeletionTimestamp() == nil {
			h.expectations.DeletionObserved(req.String())
		}
		q.Add(req)
	}
}

func (h *podEventHandler) Generic(_ context.Context, e event.TypedGenericEvent[client.Object], q queue) {
	if req, ok := poolRequest(e.Object); ok {
		q.Add(req)
	}
}

// podChangeMatters passes the pod changes that move the pool's counts or
// its Ready condition: readiness, phase, state label, deletion, an image
// that cannot be pulled.
func podChangeMatters(oldPod, newPod *corev1.Pod) bool {
	return poolpod.IsPodReady(oldPod) != poolpod.IsPodReady(newPod) ||
		pullReason(oldPod) != pullReason(newPod) ||
		oldPod.Status.Phase != newPod.Status.Phase ||
		oldPod.Labels[arlv1.LabelState] != newPod.Labels[arlv1.LabelState] ||
		(oldPod.DeletionTimestamp == nil) != (newPod.DeletionTimestamp == nil)
}
