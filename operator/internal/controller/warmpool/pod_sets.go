package warmpool

import (
	"sort"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
	"github.com/arl-infra/arl/operator/internal/poolpod"
)

// podSets sorts a pool's pods by what the pool must do with them.
type podSets struct {
	// idleReady: current template, idle, Ready; allocatable.
	idleReady []*corev1.Pod
	// idleStarting: current template, idle, not Ready yet.
	idleStarting []*corev1.Pod
	// stale: idle pods built from an older template; replaced.
	stale []*corev1.Pod
	// failed: idle pods that ended; replaced.
	failed []*corev1.Pod
	// allocated: pods bound to a Sandbox; never touched by the pool.
	allocated []*corev1.Pod
	// pullFailures: idle starting pods whose node cannot pull an image
	// (they stay in idleStarting: replacing them would not help).
	pullFailures []pullFailure
}

// classifyPods sorts the pods labelled with pool. Idle pods count only when
// the pool controls them; pods being deleted are left out; taken pods (nil:
// none) are promised to a sandbox whose bind has not landed yet, and count
// as allocated.
func classifyPods(pool *arlv1.WarmPool, pods []corev1.Pod, hash string, taken func(*corev1.Pod) bool) podSets {
	var s podSets
	for i := range pods {
		pod := &pods[i]
		if pod.DeletionTimestamp != nil {
			continue
		}
		if pod.Labels[arlv1.LabelState] == arlv1.PodStateAllocated || (taken != nil && taken(pod)) {
			s.allocated = append(s.allocated, pod)
			continue
		}
		if !metav1.IsControlledBy(pod, pool) {
			continue
		}
		switch {
		case pod.Status.Phase == corev1.PodFailed || pod.Status.Phase == corev1.PodSucceeded:
			s.failed = append(s.failed, pod)
		case pod.Annotations[arlv1.AnnotationTemplateHash] != hash:
			s.stale = append(s.stale, pod)
		case poolpod.IsPodReady(pod):
			s.idleReady = append(s.idleReady, pod)
		default:
			s.idleStarting = append(s.idleStarting, pod)
			if f, ok := imagePullFailed(pod); ok {
				s.pullFailures = append(s.pullFailures, f)
			}
		}
	}
	return s
}

// scalePlan is what one pass does: how many pods to create, which to delete.
type scalePlan struct {
	create int
	delete []*corev1.Pod
}

// planScale keeps desired idle pods of the current template: it replaces
// failed and stale idle pods and, when there are too many, deletes starting
// pods before Ready ones (and the youngest first).
func planScale(s podSets, desired int32) scalePlan {
	var plan scalePlan
	plan.delete = append(plan.delete, s.failed...)
	plan.delete = append(plan.delete, s.stale...)
	current := len(s.idleReady) + len(s.idleStarting)
	want := int(desired)
	switch {
	case current < want:
		plan.create = want - current
	case current > want:
		excess := current - want
		candidates := append(youngestFirst(s.idleStarting), youngestFirst(s.idleReady)...)
		plan.delete = append(plan.delete, candidates[:excess]...)
	}
	return plan
}

func youngestFirst(pods []*corev1.Pod) []*corev1.Pod {
	out := append([]*corev1.Pod(nil), pods...)
	sort.SliceStable(out, func(i, j int) bool {
		return out[j].CreationTimestamp.Before(&out[i].CreationTimestamp)
	})
	return out
}
