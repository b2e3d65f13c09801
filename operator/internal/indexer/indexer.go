// Package indexer registers the field indexes every ARL controller reads the
// cache through. The keys are constants in the API package; the functions
// are exported so tests can register the same indexes on a fake client.
package indexer

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

// Index is one field index: the object type, its key and its function.
type Index struct {
	Object  client.Object
	Field   string
	Extract client.IndexerFunc
}

// All lists every index ARL's controllers use.
func All() []Index {
	return []Index{
		{Object: &arlv1.Task{}, Field: arlv1.TaskSandboxRefField, Extract: TaskSandboxRef},
		{Object: &arlv1.Sandbox{}, Field: arlv1.SandboxPoolRefField, Extract: SandboxPoolRef},
		{Object: &arlv1.Sandbox{}, Field: arlv1.SandboxPodNameField, Extract: SandboxPodName},
		{Object: &corev1.Pod{}, Field: arlv1.PodPoolField, Extract: PodPool},
		{Object: &corev1.Pod{}, Field: arlv1.PodPoolStateField, Extract: PodPoolState},
		{Object: &corev1.Pod{}, Field: arlv1.PodSandboxField, Extract: PodSandbox},
	}
}

// Setup registers every index on the manager's field indexer.
func Setup(ctx context.Context, fi client.FieldIndexer) error {
	for _, idx := range All() {
		if err := fi.IndexField(ctx, idx.Object, idx.Field, idx.Extract); err != nil {
			return fmt.Errorf("index %T by %s: %w", idx.Object, idx.Field, err)
		}
	}
	return nil
}

// Ensure registers the index named field unless it is registered already
// (controllers call it from their Setup so they also work without Setup).
func Ensure(ctx context.Context, fi client.FieldIndexer, field string) error {
	for _, idx := range All() {
		if idx.Field != field {
			continue
		}
		err := fi.IndexField(ctx, idx.Object, idx.Field, idx.Extract)
		// client-go refuses a second indexer of the same name with "indexer
		// conflict"; the function is this one, so the index is there.
		if err != nil && !strings.Contains(err.Error(), "indexer conflict") {
			return fmt.Errorf("index %T by %s: %w", idx.Object, idx.Field, err)
		}
		return nil
	}
	return fmt.Errorf("no index named %q", field)
}

// TaskSandboxRef extracts spec.sandboxRef of a Task.
func TaskSandboxRef(obj client.Object) []string {
	t, ok := obj.(*arlv1.Task)
	if !ok || t.Spec.SandboxRef == "" {
		return nil
	}
	return []string{t.Spec.SandboxRef}
}

// SandboxPoolRef extracts spec.poolRef of a Sandbox.
func SandboxPoolRef(obj client.Object) []string {
	s, ok := obj.(*arlv1.Sandbox)
	if !ok || s.Spec.PoolRef == "" {
		return nil
	}
	return []string{s.Spec.PoolRef}
}

// SandboxPodName extracts status.podName of a Sandbox.
func SandboxPodName(obj client.Object) []string {
	s, ok := obj.(*arlv1.Sandbox)
	if !ok || s.Status.PodName == "" {
		return nil
	}
	return []string{s.Status.PodName}
}

// PodPool extracts the pool label of a Pod.
func PodPool(obj client.Object) []string {
	pool := obj.GetLabels()[arlv1.LabelPool]
	if pool == "" {
		return nil
	}
	return []string{pool}
}

// PodPoolState extracts "<pool>/<state>" of a pool Pod.
func PodPoolState(obj client.Object) []string {
	labels := obj.GetLabels()
	pool, state := labels[arlv1.LabelPool], labels[arlv1.LabelState]
	if pool == "" || state == "" {
		return nil
	}
	return []string{arlv1.PoolStateKey(pool, state)}
}

// PodSandbox extracts the sandbox label of an allocated Pod.
func PodSandbox(obj client.Object) []string {
	sb := obj.GetLabels()[arlv1.LabelSandbox]
	if sb == "" {
		return nil
	}
	return []string{sb}
}
