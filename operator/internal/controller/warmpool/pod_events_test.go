package warmpool

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

func TestPodEventsSettleExpectations(t *testing.T) {
	e := newExpectations()
	h := &podEventHandler{expectations: e}
	q := workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[reconcile.Request]())
	defer q.ShutDown()
	ctx := context.Background()
	pool := manualPool()
	key := "default/python-pool"

	pod := testPod(pool, "a")
	e.Expect(key, 1, 0)
	h.Create(ctx, event.TypedCreateEvent[client.Object]{Object: &pod}, q)
	if !e.Satisfied(key) || q.Len() != 1 {
		t.Fatalf("create: satisfied=%v queue=%d", e.Satisfied(key), q.Len())
	}

	// Graceful deletion: observed when the deletionTimestamp appears, not
	// again when the pod is finally gone.
	e.Expect(key, 0, 2)
	terminating := pod.DeepCopy()
	terminating.DeletionTimestamp = ptr.To(metav1.Now())
	h.Update(ctx, event.TypedUpdateEvent[client.Object]{ObjectOld: &pod, ObjectNew: terminating}, q)
	h.Delete(ctx, event.TypedDeleteEvent[client.Object]{Object: terminating}, q)
	if e.Satisfied(key) {
		t.Fatal("one graceful deletion counted twice")
	}
	// Immediate deletion: observed on the delete event.
	other := testPod(pool, "b")
	h.Delete(ctx, event.TypedDeleteEvent[client.Object]{Object: &other}, q)
	if !e.Satisfied(key) {
		t.Fatal("deletions not observed")
	}

	// Pods of no pool are ignored.
	stray := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "stray", Namespace: "default"}}
	before := q.Len()
	h.Create(ctx, event.TypedCreateEvent[client.Object]{Object: stray}, q)
	if q.Len() != before {
		t.Error("a pod without pool label was enqueued")
	}
}
