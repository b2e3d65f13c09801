package main

import (
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/record"
)

// vkSuccessEvents are virtual-kubelet's own events for each pod it hands to
// the provider. A kubelet emits none of them, and each is one more apiserver
// write per pod (three in a pool pod's life: create, allocation, delete).
var vkSuccessEvents = map[string]bool{
	"ProviderCreateSuccess": true,
	"ProviderUpdateSuccess": true,
	"ProviderDeleteSuccess": true,
}

// withoutVKSuccessEvents is the recorder given to virtual-kubelet: its
// failure events pass, its success events are dropped.
type withoutVKSuccessEvents struct{ record.EventRecorder }

func (r withoutVKSuccessEvents) Event(obj runtime.Object, eventtype, reason, message string) {
	if !vkSuccessEvents[reason] {
		r.EventRecorder.Event(obj, eventtype, reason, message)
	}
}

func (r withoutVKSuccessEvents) Eventf(obj runtime.Object, eventtype, reason, messageFmt string, args ...any) {
	if !vkSuccessEvents[reason] {
		r.EventRecorder.Eventf(obj, eventtype, reason, messageFmt, args...)
	}
}

func (r withoutVKSuccessEvents) AnnotatedEventf(obj runtime.Object, annotations map[string]string, eventtype, reason, messageFmt string, args ...any) {
	if !vkSuccessEvents[reason] {
		r.EventRecorder.AnnotatedEventf(obj, annotations, eventtype, reason, messageFmt, args...)
	}
}
