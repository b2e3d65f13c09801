package warmpool

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
	"github.com/arl-infra/arl/operator/internal/poolpod"
)

var testPods = poolpod.PodConfig{SidecarImage: "ghcr.io/arl-infra/arl-sidecar:v0.1.0"}

// manualPool is the manual's quick-start pool.
func manualPool() *arlv1.WarmPool {
	return &arlv1.WarmPool{
		ObjectMeta: metav1.ObjectMeta{Name: "python-pool", Namespace: "default", UID: "pool-uid"},
		Spec: arlv1.WarmPoolSpec{
			Replicas: ptr.To[int32](3),
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
				Containers: []corev1.Container{{
					Name: "executor", Image: "python:3.9-slim", Command: []string{"sleep", "infinity"},
					VolumeMounts: []corev1.VolumeMount{{Name: "workspace", MountPath: "/workspace"}},
				}},
				Volumes: []corev1.Volume{{Name: "workspace", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}},
			}},
		},
	}
}
