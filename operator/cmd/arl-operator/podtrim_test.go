package main

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
	"github.com/arl-infra/arl/operator/internal/poolpod"
)

func TestTrimPoolPodsKeepsWhatControllersRead(t *testing.T) {
	now := metav1.Now()
	mounts := []corev1.VolumeMount{{Name: arlv1.WorkspaceVolumeName, MountPath: "/work"}}
	waiting := &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff", Message: "no such image"}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: "p", Namespace: "ns", UID: "u", DeletionTimestamp: &now,
			Labels:          map[string]string{arlv1.LabelPool: "pool", arlv1.LabelState: arlv1.PodStateIdle},
			Annotations:     map[string]string{arlv1.AnnotationTemplateHash: "h", arlv1.AnnotationTokenSecretUID: "s"},
			OwnerReferences: []metav1.OwnerReference{{Kind: "WarmPool", Name: "pool", UID: "pool-uid", Controller: ptr.To(true)}},
			ManagedFields:   []metav1.ManagedFieldsEntry{{Manager: "x"}},
		},
		Spec: corev1.PodSpec{
			NodeName:       "node",
			InitContainers: []corev1.Container{{Name: "arl-install", Image: "sidecar", Command: []string{"cp"}}},
			Containers: []corev1.Container{
				{Name: arlv1.ExecutorContainerName, Image: "python", VolumeMounts: mounts, Env: []corev1.EnvVar{{Name: "A", Value: "b"}}},
				{Name: "sidecar", Image: "sidecar", Args: []string{"--port=8080"}},
			},
			Volumes:     []corev1.Volume{{Name: arlv1.WorkspaceVolumeName}},
			Tolerations: []corev1.Toleration{{Key: "type", Value: "kwok"}},
		},
		Status: corev1.PodStatus{
			Phase:      corev1.PodRunning,
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}},
			PodIP:      "10.0.0.2", PodIPs: []corev1.PodIP{{IP: "10.0.0.2"}}, HostIP: "10.0.0.1",
			InitContainerStatuses: []corev1.ContainerStatus{{Name: "arl-install", Image: "sidecar", ImageID: "sha256:x"}},
			ContainerStatuses: []corev1.ContainerStatus{{Name: arlv1.ExecutorContainerName, Image: "python", ImageID: "sha256:y",
				State: corev1.ContainerState{Waiting: waiting}}},
		},
	}
	got, err := trimPoolPods(pod)
	if err != nil {
		t.Fatal(err)
	}
	p := got.(*corev1.Pod)
	if p.ManagedFields != nil || p.Spec.InitContainers != nil || p.Spec.Volumes != nil || p.Spec.Tolerations != nil ||
		p.Spec.Containers[0].Env != nil || p.Spec.Containers[0].Image != "" || p.Spec.Containers[1].Args != nil ||
		p.Status.HostIP != "" || p.Status.ContainerStatuses[0].ImageID != "" {
		t.Errorf("pod not trimmed: %+v", p)
	}
	if p.Labels[arlv1.LabelState] != arlv1.PodStateIdle || p.Annotations[arlv1.AnnotationTemplateHash] != "h" ||
		p.Annotations[arlv1.AnnotationTokenSecretUID] != "s" || len(p.OwnerReferences) != 1 || p.DeletionTimestamp == nil || p.UID != "u" {
		t.Errorf("trimmed metadata the controllers read: %+v", p.ObjectMeta)
	}
	p.DeletionTimestamp = nil // IsPodReady says false for a pod being deleted
	if !poolpod.IsPodReady(p) || p.Status.PodIP != "10.0.0.2" || len(p.Status.PodIPs) != 1 || p.Spec.NodeName != "node" {
		t.Errorf("trimmed the readiness or addresses: %+v", p.Status)
	}
	if p.Spec.Containers[0].Name != arlv1.ExecutorContainerName || len(p.Spec.Containers[0].VolumeMounts) != 1 ||
		p.Spec.Containers[0].VolumeMounts[0].MountPath != "/work" {
		t.Errorf("trimmed the executor's mounts (the sandbox's workDir): %+v", p.Spec.Containers)
	}
	if cs := p.Status.ContainerStatuses[0]; cs.State.Waiting == nil || cs.State.Waiting.Reason != "ImagePullBackOff" || cs.Image != "python" ||
		len(p.Status.InitContainerStatuses) != 1 {
		t.Errorf("trimmed the image-pull state: %+v", p.Status)
	}
}
