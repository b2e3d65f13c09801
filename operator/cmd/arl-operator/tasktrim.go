package main

import (
	"sigs.k8s.io/controller-runtime/pkg/cache"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

// trimFinishedTasks is the Task informer's transform: managed fields are
// dropped (as for every object), and a finished Task keeps only what the
// controllers still read (its state, times, TTL, sandbox and pod): its
// stdout and stderr, its FilePatch contents, its step environments and its
// per-step results are dropped from the cache. A finished Task is never
// written back from the cache (its state is final), so nothing is lost;
// clients read the full object from the API server.
func trimFinishedTasks(obj any) (any, error) {
	obj, err := cache.TransformStripManagedFields()(obj)
	if err != nil {
		return obj, err
	}
	t, ok := obj.(*arlv1.Task)
	if !ok || !t.IsFinished() {
		return obj, nil
	}
	t.Status.Stdout, t.Status.Stderr = "", ""
	t.Status.Steps = nil
	t.Status.Conditions = nil
	for i := range t.Spec.Steps {
		t.Spec.Steps[i].Content = ""
		t.Spec.Steps[i].Env = nil
		t.Spec.Steps[i].Command = nil
	}
	t.Annotations = nil
	return t, nil
}
