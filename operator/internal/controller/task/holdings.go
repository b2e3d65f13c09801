package task

import (
	"sync"

	"k8s.io/apimachinery/pkg/types"
)

type localState int

const (
	localQueued localState = iota
	localRunning
	// localDone: this process wrote the task's end; the cache may still show
	// it Running for a moment.
	localDone
)

type localTask struct {
	uid   types.UID
	state localState
}

// holdings records which tasks this process holds: queued for a worker,
// running, or ended by it while the cache may still show them Running. A
// reconcile leaves a held task alone.
type holdings struct {
	mu    sync.Mutex
	local map[types.NamespacedName]localTask
}

func newHoldings() *holdings {
	return &holdings{local: make(map[types.NamespacedName]localTask)}
}

// take records the task as queued; it reports false when the task (same
// UID) is held already.
func (h *holdings) take(key types.NamespacedName, uid types.UID) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if t, ok := h.local[key]; ok && t.uid == uid {
		return false
	}
	h.local[key] = localTask{uid: uid, state: localQueued}
	return true
}

// holds reports whether this process has the task queued or running, or
// has just written its end (so a Running state in the cache is stale).
func (h *holdings) holds(key types.NamespacedName, uid types.UID, finished bool) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	t, ok := h.local[key]
	switch {
	case !ok:
		return false
	case t.uid != uid:
		delete(h.local, key)
		return false
	case t.state == localDone && finished:
		delete(h.local, key)
	}
	return true
}

// forget drops the record of a deleted task.
func (h *holdings) forget(key types.NamespacedName) {
	h.mu.Lock()
	delete(h.local, key)
	h.mu.Unlock()
}

// release drops the record of a task this process lets go of; a record of
// a newer task under the same name (a new UID) is left alone.
func (h *holdings) release(key types.NamespacedName, uid types.UID) {
	h.mu.Lock()
	if t, ok := h.local[key]; ok && t.uid == uid {
		delete(h.local, key)
	}
	h.mu.Unlock()
}

func (h *holdings) setState(key types.NamespacedName, uid types.UID, s localState) {
	h.mu.Lock()
	if t, ok := h.local[key]; ok && t.uid == uid {
		t.state = s
		h.local[key] = t
	}
	h.mu.Unlock()
}
