package main

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/record"
)

func TestVirtualKubeletSuccessEventsDropped(t *testing.T) {
	fake := record.NewFakeRecorder(10)
	r := withoutVKSuccessEvents{fake}
	pod := &corev1.Pod{}
	r.Event(pod, corev1.EventTypeNormal, "ProviderCreateSuccess", "Create pod in provider successfully")
	r.Eventf(pod, corev1.EventTypeNormal, "ProviderUpdateSuccess", "%s", "Update pod in provider successfully")
	r.AnnotatedEventf(pod, nil, corev1.EventTypeNormal, "ProviderDeleteSuccess", "%s", "Delete pod in provider successfully")
	r.Event(pod, corev1.EventTypeWarning, "ProviderCreateFailed", "boom")
	close(fake.Events)
	var got []string
	for e := range fake.Events {
		got = append(got, e)
	}
	if len(got) != 1 || got[0] != "Warning ProviderCreateFailed boom" {
		t.Fatalf("events passed = %q, want only the failure", got)
	}
}
