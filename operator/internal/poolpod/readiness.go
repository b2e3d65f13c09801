package poolpod

import corev1 "k8s.io/api/core/v1"

// IsPodReady reports whether pod runs and its Ready condition is True (the
// sidecar's readiness probe on /health passed).
func IsPodReady(pod *corev1.Pod) bool {
	if pod.Status.Phase != corev1.PodRunning || pod.DeletionTimestamp != nil {
		return false
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
