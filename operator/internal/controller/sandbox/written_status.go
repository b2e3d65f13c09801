package sandbox

import (
	"sync"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/resourceversion"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

// writtenStatuses remembers the last status this process wrote to each
// sandbox until the cache shows it. A pass that runs on an older cached copy
// (the bound pod's label change often arrives before the sandbox's own
// status update) starts from what was written instead, so it neither writes
// the same status again nor stamps a second allocationTime.
type writtenStatuses struct {
	mu sync.Mutex
	m  map[types.NamespacedName]writtenStatus
}

type writtenStatus struct {
	resourceVersion string
	status          arlv1.SandboxStatus
}

func newWrittenStatuses() *writtenStatuses {
	return &writtenStatuses{m: map[types.NamespacedName]writtenStatus{}}
}

// remember records sb's status as just written; sb carries the
// resourceVersion the API server returned.
func (w *writtenStatuses) remember(sb *arlv1.Sandbox) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.m[types.NamespacedName{Namespace: sb.Namespace, Name: sb.Name}] = writtenStatus{
		resourceVersion: sb.ResourceVersion,
		status:          *sb.Status.DeepCopy(),
	}
}

// catchUp replaces the status of a cached sb that is older than the last
// write with the written status; once the cache holds the write (or a later
// version, or versions cannot be compared) the memory is dropped.
func (w *writtenStatuses) catchUp(sb *arlv1.Sandbox) {
	key := types.NamespacedName{Namespace: sb.Namespace, Name: sb.Name}
	w.mu.Lock()
	defer w.mu.Unlock()
	written, ok := w.m[key]
	if !ok {
		return
	}
	cmp, err := resourceversion.CompareResourceVersion(sb.ResourceVersion, written.resourceVersion)
	if err != nil || cmp >= 0 {
		delete(w.m, key)
		return
	}
	sb.Status = *written.status.DeepCopy()
}

// forget drops the memory of a sandbox that is gone.
func (w *writtenStatuses) forget(key types.NamespacedName) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.m, key)
}
