package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

// benchLabels mark every object a run creates.
var benchLabels = map[string]string{"arl-bench": "yes"}

// pool is a WarmPool of the manual's image (python:3.9-slim, `sleep
// infinity`) on the process node.
func pool(name string, replicas int) *arlv1.WarmPool {
	return &arlv1.WarmPool{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: benchLabels},
		Spec: arlv1.WarmPoolSpec{
			Replicas: ptr.To(int32(replicas)),
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{
				Name: arlv1.ExecutorContainerName, Image: "python:3.9-slim", Command: []string{"sleep", "infinity"},
			}}}},
		},
	}
}

// simPool is a WarmPool whose pods go to the simulated (kwok) nodes, by
// kwok's standard label and taint (arl-local up --sim-nodes).
func simPool(name string, replicas int) *arlv1.WarmPool {
	p := pool(name, replicas)
	p.Spec.Template.Spec.NodeSelector = map[string]string{"type": "kwok"}
	p.Spec.Template.Spec.Tolerations = []corev1.Toleration{{
		Key: "kwok.x-k8s.io/node", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule,
	}}
	return p
}

// sandbox is a keepAlive sandbox of pool.
func sandbox(name, pool string) *arlv1.Sandbox {
	return &arlv1.Sandbox{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: benchLabels},
		Spec:       arlv1.SandboxSpec{PoolRef: pool, KeepAlive: true},
	}
}

// trueTask is a one-step `true` task on sandbox, deleted ttl seconds after
// it finished.
func trueTask(name, sandbox string, ttl int32) *arlv1.Task {
	return &arlv1.Task{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: benchLabels},
		Spec: arlv1.TaskSpec{
			SandboxRef: sandbox, TTLSecondsAfterFinished: ptr.To(ttl),
			Steps: []arlv1.TaskStep{{Name: "noop", Type: arlv1.StepTypeCommand, Command: []string{"true"}}},
		},
	}
}

// finishedTask is a fixture: a Task as it looks once it Succeeded, kept by
// its TTL for the run's length.
func finishedTask(name, sandbox string) *arlv1.Task { return trueTask(name, sandbox, 6*3600) }

// fixtureOutput is a fixture's stdout: 1 KiB, a small program's output.
var fixtureOutput = strings.Repeat("ok: step output line of a finished task\n", 30)[:1024]

func finishedStatus(t *arlv1.Task) {
	now := metav1.NewTime(time.Now().UTC().Truncate(time.Second))
	t.Status = arlv1.TaskStatus{
		State: arlv1.TaskStateSucceeded, ExitCode: ptr.To[int32](0), Stdout: fixtureOutput, Attempts: 1,
		StartTime: &now, CompletionTime: &now, Duration: "2ms",
		Steps: []arlv1.StepStatus{{
			Name: "noop", Type: arlv1.StepTypeCommand, State: arlv1.StepStateSucceeded, Attempt: 1, ExitCode: ptr.To[int32](0),
			StartTime: &now, CompletionTime: &now, Duration: "2ms",
		}},
	}
}

// parallel runs fn(i) for i in [0, n) on workers goroutines and returns the
// first error; it stops early when ctx ends.
func parallel(ctx context.Context, n, workers int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Go(func() {
			for i := range next {
				if err := fn(ctx, i); err != nil {
					cancel(err)
				}
			}
		})
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return ctx.Err()
}

// createRetrying creates o in ns, retrying briefly while the API server or
// the operator's webhook is busy (429, 5xx, webhook timeouts); an object
// that already exists counts as created.
func createRetrying(ctx context.Context, c client.Client, ns string, o client.Object) error {
	o.SetNamespace(ns)
	var err error
	for attempt := range 20 {
		try := o.DeepCopyObject().(client.Object) // a failed create may have written into it
		err = c.Create(ctx, try)
		if err == nil || apierrors.IsAlreadyExists(err) {
			return nil
		}
		if ctx.Err() != nil || !busy(err) {
			break
		}
		time.Sleep(time.Duration(50*(attempt+1)) * time.Millisecond)
	}
	return fmt.Errorf("create %T %s: %w", o, o.GetName(), err)
}

// busy says whether err is the API server or a webhook being busy, which a
// retry may get past.
func busy(err error) bool {
	return apierrors.IsTooManyRequests(err) || apierrors.IsServerTimeout(err) || apierrors.IsInternalError(err) ||
		apierrors.IsTimeout(err) || apierrors.IsServiceUnavailable(err)
}

// readyTracker follows one watch over a namespace's objects of a kind and
// records when each first satisfied done.
type readyTracker struct {
	mu      sync.Mutex
	at      map[string]time.Time
	failed  map[string]bool // done Tasks whose state is Failed
	changed chan struct{}
}

// trackReady lists ns's objects of list's kind, then watches them from the
// list's revision until ctx ends.
func trackReady(ctx context.Context, c client.WithWatch, list client.ObjectList, ns string, done func(client.Object) bool) (*readyTracker, error) {
	t := &readyTracker{at: map[string]time.Time{}, failed: map[string]bool{}, changed: make(chan struct{})}
	rv, err := t.list(ctx, c, list, ns, done)
	if err != nil {
		return nil, err
	}
	go func() {
		// A watch ends now and then: its timeout, or the API server closing
		// a watcher that reads too slowly. Watch again from the last
		// revision seen; list (every object of the namespace, costly for
		// the API server) only when that revision is gone or the watch
		// cannot start.
		for ctx.Err() == nil {
			relist := false
			w, err := c.Watch(ctx, list, client.InNamespace(ns), &client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: rv, AllowWatchBookmarks: true}})
			if err == nil {
				for ev := range w.ResultChan() {
					if ev.Type == watch.Error {
						relist = true // e.g. 410 Gone: rv was compacted
						continue
					}
					o, ok := ev.Object.(client.Object)
					if !ok {
						continue
					}
					rv = o.GetResourceVersion()
					if ev.Type != watch.Deleted && ev.Type != watch.Bookmark && done(o) {
						t.record(o, time.Now())
					}
				}
				w.Stop()
			}
			if ctx.Err() != nil {
				return
			}
			time.Sleep(200 * time.Millisecond)
			if err != nil || relist {
				if next, err := t.list(ctx, c, list, ns, done); err == nil {
					rv = next
				}
			}
		}
	}()
	return t, nil
}

// list records the objects already done and returns the list's revision.
func (t *readyTracker) list(ctx context.Context, c client.Client, list client.ObjectList, ns string, done func(client.Object) bool) (string, error) {
	list = list.DeepCopyObject().(client.ObjectList)
	if err := c.List(ctx, list, client.InNamespace(ns)); err != nil {
		return "", fmt.Errorf("list %T: %w", list, err)
	}
	items, err := meta.ExtractList(list)
	if err != nil {
		return "", fmt.Errorf("items of %T: %w", list, err)
	}
	now := time.Now()
	for _, item := range items {
		if o, ok := item.(client.Object); ok && done(o) {
			t.record(o, now)
		}
	}
	return list.GetResourceVersion(), nil
}

func (t *readyTracker) record(o client.Object, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	name := o.GetName()
	if task, ok := o.(*arlv1.Task); ok && task.Status.State == arlv1.TaskStateFailed {
		t.failed[name] = true
	}
	if _, seen := t.at[name]; !seen {
		t.at[name] = at
		close(t.changed)
		t.changed = make(chan struct{})
	}
}

// waitAll waits until every name is done and returns when each was.
func (t *readyTracker) waitAll(ctx context.Context, names []string, timeout time.Duration) ([]time.Time, error) {
	deadline := time.After(timeout)
	for {
		t.mu.Lock()
		out, missing := make([]time.Time, len(names)), 0
		for i, n := range names {
			at, ok := t.at[n]
			if !ok {
				missing++
			}
			out[i] = at
		}
		changed := t.changed
		t.mu.Unlock()
		if missing == 0 {
			return out, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-deadline:
			return nil, fmt.Errorf("%d of %d not Ready after %s", missing, len(names), timeout)
		}
	}
}

func sandboxReady(o client.Object) bool {
	sb, ok := o.(*arlv1.Sandbox)
	return ok && sb.Status.Phase == arlv1.SandboxPhaseReady
}

func taskFinished(o client.Object) bool {
	t, ok := o.(*arlv1.Task)
	return ok && t.IsFinished()
}
