package warmpool

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

// computeStatus returns the pool's status for the pods it sees and the error
// of this pass, if any (a failed create or an unusable template).
func computeStatus(pool *arlv1.WarmPool, s podSets, passErr error, invalidTemplate bool) arlv1.WarmPoolStatus {
	st := *pool.Status.DeepCopy()
	st.Replicas = int32(len(s.idleReady) + len(s.idleStarting) + len(s.stale))
	st.ReadyReplicas = int32(len(s.idleReady))
	st.AllocatedReplicas = int32(len(s.allocated))
	st.Selector = arlv1.LabelPool + "=" + pool.Name
	st.ObservedGeneration = pool.Generation
	meta.SetStatusCondition(&st.Conditions, readyCondition(pool, st, passErr, invalidTemplate, s.pullFailures))
	return st
}

// readyCondition is True when the pool holds spec.replicas Ready idle pods.
// Short of them, pods that cannot pull their image are named (the first
// by pod name, with the kubelet's message), not reported as Scaling.
func readyCondition(pool *arlv1.WarmPool, st arlv1.WarmPoolStatus, passErr error, invalidTemplate bool, pulls []pullFailure) metav1.Condition {
	cond := metav1.Condition{Type: arlv1.WarmPoolConditionReady, ObservedGeneration: pool.Generation}
	desired := pool.DesiredReplicas()
	switch {
	case invalidTemplate:
		cond.Status, cond.Reason = metav1.ConditionFalse, arlv1.WarmPoolReasonInvalidTemplate
		cond.Message = fmt.Sprintf("cannot build pods: %v", passErr)
	case passErr != nil:
		cond.Status, cond.Reason = metav1.ConditionFalse, arlv1.WarmPoolReasonPodCreateFailed
		cond.Message = passErr.Error()
	case len(pulls) > 0 && st.ReadyReplicas < desired:
		first := slices.MinFunc(pulls, func(a, b pullFailure) int { return strings.Compare(a.pod, b.pod) })
		cond.Status, cond.Reason = metav1.ConditionFalse, arlv1.WarmPoolReasonImagePullFailed
		cond.Message = fmt.Sprintf("%d/%d idle pods ready; %d pod(s) cannot pull an image: %s", st.ReadyReplicas, desired, len(pulls), first)
	case st.ReadyReplicas >= desired:
		cond.Status, cond.Reason = metav1.ConditionTrue, arlv1.WarmPoolReasonPoolReady
		cond.Message = fmt.Sprintf("%d/%d idle pods ready", st.ReadyReplicas, desired)
	default:
		cond.Status, cond.Reason = metav1.ConditionFalse, arlv1.WarmPoolReasonScaling
		cond.Message = fmt.Sprintf("%d/%d idle pods ready", st.ReadyReplicas, desired)
	}
	return cond
}

// readyReason is the reason of st's Ready condition, or "".
func readyReason(st arlv1.WarmPoolStatus) string {
	if c := meta.FindStatusCondition(st.Conditions, arlv1.WarmPoolConditionReady); c != nil {
		return c.Reason
	}
	return ""
}
