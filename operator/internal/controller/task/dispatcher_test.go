package task

import (
	"strings"
	"testing"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/types"
)

func jobFor(name string, uid types.UID) job {
	task := testTask(0, "a")
	task.Name, task.UID = name, uid
	return job{key: types.NamespacedName{Namespace: task.Namespace, Name: name}, task: task}
}

func TestDispatcherBookkeeping(t *testing.T) {
	d := newDispatcher(Options{QueueSize: 1, MaxConcurrentTasks: 1}.withDefaults(), nil, nil, nil, nil, logr.Discard())
	a, b := jobFor("a", "uid-a"), jobFor("b", "uid-b")

	if d.holds(a.key, "uid-a", false) {
		t.Fatal("holds a task never dispatched")
	}
	if err := d.dispatch(a); err != nil {
		t.Fatalf("dispatch a: %v", err)
	}
	if err := d.dispatch(a); err != nil || len(d.queue) != 1 {
		t.Fatalf("a second dispatch of a held task must be a no-op: err %v, queue %d", err, len(d.queue))
	}
	if !d.holds(a.key, "uid-a", false) {
		t.Fatal("a queued task must be held")
	}
	if err := d.dispatch(b); err == nil || !strings.Contains(err.Error(), "queue full") {
		t.Fatalf("dispatch into a full queue: err %v, want queue full", err)
	}
	if d.holds(b.key, "uid-b", false) {
		t.Fatal("a task refused by a full queue must not stay held")
	}
	if d.holds(a.key, "uid-other", false) {
		t.Fatal("a task recreated under the same name (new UID) must not be held")
	}

	d.local[b.key] = localTask{uid: "uid-b", state: localDone}
	if !d.holds(b.key, "uid-b", false) {
		t.Fatal("a task whose end this process wrote must be held while the cache shows it unfinished")
	}
	if !d.holds(b.key, "uid-b", true) || len(d.local) != 0 {
		t.Fatalf("once the cache shows the end, the record must go; records left: %v", d.local)
	}
}
