package main

import (
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/cache"
)

// trimPoolPods is the Pod informer's transform: managed fields are dropped
// (as for every object), and of a pool pod's spec and status only what the
// controllers read stays: metadata whole (labels, annotations such as the
// template hash, owner references, deletion), the containers' names and
// volume mounts (the sandbox's workDir), the node; the phase, conditions
// (Ready), pod IPs, and per container its name, image and waiting state
// (an image that cannot be pulled). A pod is never written back from the
// cache (the bind is a JSON patch of metadata with tests), so nothing is
// lost; clients read the full object from the API server. At 10,000 pool
// pods this is most of the operator's memory (13 KiB per pod untrimmed).
func trimPoolPods(obj any) (any, error) {
	obj, err := cache.TransformStripManagedFields()(obj)
	if err != nil {
		return obj, err
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return obj, nil
	}
	containers := make([]corev1.Container, len(pod.Spec.Containers))
	for i, c := range pod.Spec.Containers {
		containers[i] = corev1.Container{Name: c.Name, VolumeMounts: c.VolumeMounts}
	}
	pod.Spec = corev1.PodSpec{Containers: containers, NodeName: pod.Spec.NodeName}
	pod.Status = corev1.PodStatus{
		Phase:                 pod.Status.Phase,
		Conditions:            pod.Status.Conditions,
		PodIP:                 pod.Status.PodIP,
		PodIPs:                pod.Status.PodIPs,
		InitContainerStatuses: trimContainerStatuses(pod.Status.InitContainerStatuses),
		ContainerStatuses:     trimContainerStatuses(pod.Status.ContainerStatuses),
	}
	return pod, nil
}

func trimContainerStatuses(in []corev1.ContainerStatus) []corev1.ContainerStatus {
	if in == nil {
		return nil
	}
	out := make([]corev1.ContainerStatus, len(in))
	for i, cs := range in {
		out[i] = corev1.ContainerStatus{Name: cs.Name, Image: cs.Image, State: corev1.ContainerState{Waiting: cs.State.Waiting}}
	}
	return out
}
