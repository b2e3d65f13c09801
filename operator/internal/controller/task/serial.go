package task

import (
	"cmp"
	"strconv"
	"sync"

	"k8s.io/apimachinery/pkg/types"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

// Serial sandboxes (spec.taskConcurrency: Serial) run one task at a time in
// creation order. Creation order is creationTimestamp, then the task's
// creation revision, then its name. creationTimestamp has one-second
// resolution; the revision (resourceVersion) a task had when the operator
// first saw it orders tasks created within the same second, as the API
// server stored them. A task nobody wrote since its create still carries
// that revision after an operator restart.

// creationOrder remembers the first revision seen of each task.
type creationOrder struct {
	mu    sync.Mutex
	first map[types.UID]uint64
}

func newCreationOrder() *creationOrder {
	return &creationOrder{first: map[types.UID]uint64{}}
}

// revision is the first resourceVersion seen of t (0 when not numeric).
func (o *creationOrder) revision(t *arlv1.Task) uint64 {
	rv, _ := strconv.ParseUint(t.ResourceVersion, 10, 64)
	o.mu.Lock()
	defer o.mu.Unlock()
	if first, ok := o.first[t.UID]; ok && (first <= rv || rv == 0) {
		return first
	}
	o.first[t.UID] = rv
	return rv
}

// forget drops a deleted task.
func (o *creationOrder) forget(uid types.UID) {
	o.mu.Lock()
	delete(o.first, uid)
	o.mu.Unlock()
}

// compare orders a before b (negative) in creation order.
func (o *creationOrder) compare(a, b *arlv1.Task) int {
	if c := a.CreationTimestamp.Compare(b.CreationTimestamp.Time); c != 0 {
		return c
	}
	if c := cmp.Compare(o.revision(a), o.revision(b)); c != 0 {
		return c
	}
	return cmp.Compare(a.Name, b.Name)
}

// firstInLine reports whether task may start in a Serial sandbox: no other
// unfinished task of the sandbox (siblings, task itself may be among them)
// comes before it.
func (o *creationOrder) firstInLine(task *arlv1.Task, siblings []arlv1.Task) bool {
	for i := range siblings {
		s := &siblings[i]
		if s.UID == task.UID || s.IsFinished() || s.DeletionTimestamp != nil {
			continue
		}
		if o.compare(s, task) < 0 {
			return false
		}
	}
	return true
}
