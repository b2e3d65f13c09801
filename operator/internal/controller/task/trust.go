package task

import (
	"context"
	"errors"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
	"github.com/arl-infra/arl/operator/internal/sidecarclient"
)

// refusal is a reason never to send a task's steps (nor a token) where the
// sandbox's status points: the task fails with reason and message.
type refusal struct {
	reason  string
	message string
}

func (r *refusal) Error() string { return r.message }

// errPodGone: the pod the sandbox's status names does not exist or is being
// deleted; the task waits (the Sandbox controller marks the sandbox Failed).
var errPodGone = errors.New("the sandbox's pod is gone")

// errPodNotBoundYet: the pod is still its pool's (or no one's). The
// Sandbox controller writes the sandbox's status before the bind patch
// that makes the sandbox the pod's controller, so a task may look between
// the two; it waits (and is retried) instead of failing.
var errPodNotBoundYet = errors.New("the sandbox's pod is not bound to it yet")

// checkPod refuses a pod that is not the sandbox's own: controlled by
// another object than its pool or the sandbox (the uid the pool's bind
// wrote), or not at the IP the sandbox's status gives. The status is
// written by whoever may write sandboxes/status; the pod's controller
// reference only by the operator.
func checkPod(sandbox *arlv1.Sandbox, pod *corev1.Pod) error {
	owner := metav1.GetControllerOf(pod)
	if owner == nil || (owner.APIVersion == arlv1.GroupVersion.String() && owner.Kind == "WarmPool" && owner.Name == sandbox.Spec.PoolRef) {
		return fmt.Errorf("pod %s named by sandbox %s: %w", pod.Name, sandbox.Name, errPodNotBoundYet)
	}
	if owner.APIVersion != arlv1.GroupVersion.String() || owner.Kind != "Sandbox" || owner.UID != sandbox.UID {
		return &refusal{reason: arlv1.TaskReasonSandboxPodMismatch, message: fmt.Sprintf(
			"pod %s named by sandbox %s is not controlled by that sandbox (uid %s); no step or token is sent to it",
			pod.Name, sandbox.Name, sandbox.UID)}
	}
	if !hasIP(pod, sandbox.Status.PodIP) {
		return &refusal{reason: arlv1.TaskReasonSandboxPodMismatch, message: fmt.Sprintf(
			"sandbox %s's status.podIP %s is not an IP of its pod %s (%s); no step or token is sent to it",
			sandbox.Name, sandbox.Status.PodIP, pod.Name, pod.Status.PodIP)}
	}
	return nil
}

func hasIP(pod *corev1.Pod, ip string) bool {
	if ip == "" {
		return false
	}
	return pod.Status.PodIP == ip || slices.ContainsFunc(pod.Status.PodIPs, func(p corev1.PodIP) bool { return p.IP == ip })
}

// sandboxPod returns the sandbox's pod once checkPod accepts it. The cache
// may be behind the sandbox's status, so a pod it lacks or refuses is read
// again from the API server before the refusal stands.
func (r *TaskReconciler) sandboxPod(ctx context.Context, sandbox *arlv1.Sandbox) (*corev1.Pod, error) {
	key := types.NamespacedName{Namespace: sandbox.Namespace, Name: sandbox.Status.PodName}
	pod := &corev1.Pod{}
	err := r.Client.Get(ctx, key, pod)
	switch {
	case err == nil && pod.DeletionTimestamp == nil && checkPod(sandbox, pod) == nil:
		return pod, nil
	case err != nil && !apierrors.IsNotFound(err):
		return nil, fmt.Errorf("get pod %s of sandbox %s: %w", key.Name, sandbox.Name, err)
	}
	pod = &corev1.Pod{}
	if err := r.Live.Get(ctx, key, pod); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("pod %s of sandbox %s: %w", key.Name, sandbox.Name, errPodGone)
		}
		return nil, fmt.Errorf("get pod %s of sandbox %s: %w", key.Name, sandbox.Name, err)
	}
	if pod.DeletionTimestamp != nil {
		return nil, fmt.Errorf("pod %s of sandbox %s is being deleted: %w", key.Name, sandbox.Name, errPodGone)
	}
	if err := checkPod(sandbox, pod); err != nil {
		return nil, err
	}
	return pod, nil
}

// asRefusal turns an untrusted token Secret into a refusal.
func asRefusal(err error) error {
	if errors.Is(err, sidecarclient.ErrUntrustedSecret) {
		return &refusal{reason: arlv1.TaskReasonTokenSecretUntrusted, message: err.Error() + "; its token is not sent anywhere"}
	}
	return err
}
