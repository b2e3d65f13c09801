package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

// jsonPatchOp is one RFC 6902 operation.
type jsonPatchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value"`
}

// bindPatch is the JSON patch that hands pod over to sb. Its first
// operations test what made the pod a candidate: the same pod (uid), still
// idle, still controlled by pool, not being deleted. The API server applies a
// patch to the object it is about to store and re-applies it when its own
// write conflicts, so an unrelated change (the node updating the pod's
// status) no longer fails the bind, while of two binders of one pod the
// second always fails its test (422) and moves on: exactly one wins.
func bindPatch(sb *arlv1.Sandbox, pool *arlv1.WarmPool, pod *corev1.Pod) ([]byte, error) {
	owner := controllerRefIndex(pod, pool)
	if owner < 0 {
		return nil, fmt.Errorf("pod %s is not controlled by warmpool %s", pod.Name, pool.Name)
	}
	stateLabel := "/metadata/labels/" + escapePointer(arlv1.LabelState)
	ops := []jsonPatchOp{
		{Op: "test", Path: "/metadata/uid", Value: pod.UID},
		{Op: "test", Path: stateLabel, Value: arlv1.PodStateIdle},
		{Op: "test", Path: fmt.Sprintf("/metadata/ownerReferences/%d/uid", owner), Value: pool.UID},
		// A missing member tests equal to null: the pod is not being deleted.
		{Op: "test", Path: "/metadata/deletionTimestamp", Value: nil},
		{Op: "replace", Path: stateLabel, Value: arlv1.PodStateAllocated},
		{Op: "add", Path: "/metadata/labels/" + escapePointer(arlv1.LabelSandbox), Value: sb.Name},
		{Op: "replace", Path: "/metadata/ownerReferences", Value: []metav1.OwnerReference{
			*metav1.NewControllerRef(sb, arlv1.GroupVersion.WithKind("Sandbox")),
		}},
	}
	data, err := json.Marshal(ops)
	if err != nil {
		return nil, fmt.Errorf("encode bind patch of pod %s: %w", pod.Name, err)
	}
	return data, nil
}

// controllerRefIndex is the position of pool's controller reference in the
// pod's owner references, or -1.
func controllerRefIndex(pod *corev1.Pod, pool *arlv1.WarmPool) int {
	for i, ref := range pod.OwnerReferences {
		if ref.UID == pool.UID && ref.Controller != nil && *ref.Controller {
			return i
		}
	}
	return -1
}

// escapePointer escapes a map key for a JSON pointer (RFC 6901).
func escapePointer(key string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(key)
}

// lostBindRace reports whether a bind failed because the pod is no longer
// the candidate the cache showed: taken by another sandbox, deleted, or
// changed so that a test operation of the patch failed (422).
func lostBindRace(err error) bool {
	if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
		return true
	}
	if !apierrors.IsInvalid(err) {
		return false
	}
	// A failed test operation comes back as a bare 422 (the server drops the
	// patch library's message); a validation error of the patched pod names
	// the pod and lists its causes, and is a real error.
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		return false
	}
	details := status.Status().Details
	return details == nil || (details.Kind == "" && details.Name == "" && len(details.Causes) == 0)
}
