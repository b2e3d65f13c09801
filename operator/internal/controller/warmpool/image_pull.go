package warmpool

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
)

// imagePullReasons are the kubelet's waiting reasons for a container whose
// image it cannot get: the pod stays Pending, and without them in the
// pool's status a pool with a wrong image would look like a slow one.
var imagePullReasons = map[string]bool{
	"ErrImagePull":      true,
	"ImagePullBackOff":  true,
	"InvalidImageName":  true,
	"ErrImageNeverPull": true,
}

// pullFailure is one container that cannot start because of its image.
type pullFailure struct {
	pod, container, image, reason, message string
}

func (f pullFailure) String() string {
	return fmt.Sprintf("pod %s: container %s cannot pull image %s: %s: %s", f.pod, f.container, f.image, f.reason, f.message)
}

// imagePullFailed finds the first container (init containers first) of
// pod waiting on an image it cannot pull.
func imagePullFailed(pod *corev1.Pod) (pullFailure, bool) {
	for _, statuses := range [][]corev1.ContainerStatus{pod.Status.InitContainerStatuses, pod.Status.ContainerStatuses} {
		for _, cs := range statuses {
			if w := cs.State.Waiting; w != nil && imagePullReasons[w.Reason] {
				return pullFailure{pod: pod.Name, container: cs.Name, image: cs.Image, reason: w.Reason, message: w.Message}, true
			}
		}
	}
	return pullFailure{}, false
}

// pullReason is the waiting reason of pod's image-pull failure, or "".
func pullReason(pod *corev1.Pod) string {
	f, _ := imagePullFailed(pod)
	return f.reason
}
