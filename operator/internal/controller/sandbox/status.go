package sandbox

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
	"github.com/arl-infra/arl/operator/internal/poolpod"
)

// observation is what one pass learned about a sandbox's world.
type observation struct {
	// pod is the sandbox's allocated pod, nil when it has none.
	pod *corev1.Pod
	// podMissing: status.podName names a pod that no longer exists.
	podMissing bool
	// podLost: the pod named by status.podName was deleted or taken by
	// someone else before its bind to this sandbox landed.
	podLost bool
	// poolFound: spec.poolRef names an existing WarmPool.
	poolFound bool
	// lastTaskTime is the latest start or completion of the sandbox's tasks.
	lastTaskTime *metav1.Time
	// allocatedAt is set when this pass allocated the pod.
	allocatedAt *metav1.Time
}

// computeStatus derives the sandbox's status from what the pass observed.
// Failed is terminal: a sandbox never gets a second pod.
func computeStatus(sb *arlv1.Sandbox, obs observation) arlv1.SandboxStatus {
	st := *sb.Status.DeepCopy()
	st.ObservedGeneration = sb.Generation
	if obs.lastTaskTime != nil && (st.LastTaskTime == nil || st.LastTaskTime.Before(obs.lastTaskTime)) {
		st.LastTaskTime = obs.lastTaskTime
	}
	if st.Phase == arlv1.SandboxPhaseFailed {
		return st
	}
	cond := metav1.Condition{Type: arlv1.SandboxConditionReady, ObservedGeneration: sb.Generation, Status: metav1.ConditionFalse}
	switch {
	case obs.pod != nil:
		pod := obs.pod
		st.PodName, st.PodIP, st.WorkDir = pod.Name, pod.Status.PodIP, workDirOf(pod)
		if obs.allocatedAt != nil {
			st.AllocationTime = obs.allocatedAt
		}
		switch {
		case obs.podLost:
			st.Phase, cond.Reason = arlv1.SandboxPhaseFailed, arlv1.SandboxReasonPodLost
			cond.Message = fmt.Sprintf("pod %s left the pool before it was bound to this sandbox", pod.Name)
		case pod.DeletionTimestamp != nil:
			st.Phase, cond.Reason = arlv1.SandboxPhaseFailed, arlv1.SandboxReasonPodLost
			cond.Message = fmt.Sprintf("pod %s is being deleted", pod.Name)
		case pod.Status.Phase == corev1.PodFailed || pod.Status.Phase == corev1.PodSucceeded:
			st.Phase, cond.Reason = arlv1.SandboxPhaseFailed, arlv1.SandboxReasonPodFailed
			cond.Message = fmt.Sprintf("pod %s ended (phase %s)", pod.Name, pod.Status.Phase)
		case poolpod.IsPodReady(pod):
			st.Phase, cond.Status, cond.Reason = arlv1.SandboxPhaseReady, metav1.ConditionTrue, arlv1.SandboxReasonSidecarReady
			cond.Message = fmt.Sprintf("pod %s is Ready and its sidecar answers", pod.Name)
		default:
			st.Phase, cond.Reason = arlv1.SandboxPhaseBound, arlv1.SandboxReasonPodAllocated
			cond.Message = fmt.Sprintf("pod %s is allocated and not Ready yet", pod.Name)
		}
	case obs.podMissing:
		st.Phase, cond.Reason = arlv1.SandboxPhaseFailed, arlv1.SandboxReasonPodLost
		cond.Message = fmt.Sprintf("pod %s was deleted", st.PodName)
		st.PodIP = ""
	case !obs.poolFound:
		st.Phase, cond.Reason = arlv1.SandboxPhasePending, arlv1.SandboxReasonPoolNotFound
		cond.Message = fmt.Sprintf("WarmPool %q not found; waiting for it to be created", sb.Spec.PoolRef)
	default:
		st.Phase, cond.Reason = arlv1.SandboxPhasePending, arlv1.SandboxReasonWaitingForPool
		cond.Message = fmt.Sprintf("WarmPool %q has no idle Ready pod; waiting for one", sb.Spec.PoolRef)
	}
	meta.SetStatusCondition(&st.Conditions, cond)
	return st
}

// needsPod reports whether the sandbox still waits for a pod.
func needsPod(sb *arlv1.Sandbox) bool {
	return sb.DeletionTimestamp == nil && sb.Status.PodName == "" && sb.Status.Phase != arlv1.SandboxPhaseFailed
}

// lastTaskTime is the latest start or completion time over tasks.
func lastTaskTime(tasks []arlv1.Task) *metav1.Time {
	var latest *metav1.Time
	for i := range tasks {
		for _, t := range []*metav1.Time{tasks[i].Status.StartTime, tasks[i].Status.CompletionTime} {
			if t != nil && (latest == nil || latest.Before(t)) {
				latest = t.DeepCopy()
			}
		}
	}
	return latest
}

// workDirOf is where the executor mounts the pod's workspace volume
// (/workspace unless the pool's template mounts it elsewhere).
func workDirOf(pod *corev1.Pod) string {
	for _, c := range pod.Spec.Containers {
		if c.Name != arlv1.ExecutorContainerName {
			continue
		}
		for _, m := range c.VolumeMounts {
			if m.Name == arlv1.WorkspaceVolumeName {
				return m.MountPath
			}
		}
	}
	return arlv1.DefaultWorkDir
}
