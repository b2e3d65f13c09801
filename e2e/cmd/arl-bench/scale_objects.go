package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
)

// simPool is a WarmPool whose pods go to the simulated (kwok) nodes, by
// kwok's standard label and taint (arl-local up --sim-nodes).
func simPool(name string, replicas int) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "arl.infra.io/v1alpha1", "kind": "WarmPool",
		"metadata": map[string]any{"name": name, "labels": map[string]any{"arl-bench": "yes"}},
		"spec": map[string]any{
			"replicas": int64(replicas),
			"template": map[string]any{"spec": map[string]any{
				"nodeSelector": map[string]any{"type": "kwok"},
				"tolerations": []any{map[string]any{
					"key": "kwok.x-k8s.io/node", "operator": "Exists", "effect": "NoSchedule",
				}},
				"containers": []any{map[string]any{
					"name": "executor", "image": "python:3.9-slim", "command": []any{"sleep", "infinity"},
				}},
			}},
		},
	}}
}

// finishedTask is a fixture: a Task as it looks once it Succeeded, kept by
// its TTL for the run's length.
func finishedTask(name, sandbox string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "arl.infra.io/v1alpha1", "kind": "Task",
		"metadata": map[string]any{"name": name, "labels": map[string]any{"arl-bench": "yes"}},
		"spec": map[string]any{"sandboxRef": sandbox, "ttlSecondsAfterFinished": int64(6 * 3600), "steps": []any{
			map[string]any{"name": "noop", "type": "Command", "command": []any{"true"}},
		}},
	}}
}

// fixtureOutput is a fixture's stdout: 1 KiB, a small program's output.
var fixtureOutput = strings.Repeat("ok: step output line of a finished task\n", 30)[:1024]

func finishedStatus(o *unstructured.Unstructured) {
	now := time.Now().UTC().Format(time.RFC3339)
	o.Object["status"] = map[string]any{
		"state": "Succeeded", "exitCode": int64(0), "stdout": fixtureOutput, "attempts": int64(1),
		"startTime": now, "completionTime": now, "duration": "2ms",
		"steps": []any{map[string]any{
			"name": "noop", "type": "Command", "state": "Succeeded", "attempt": int64(1), "exitCode": int64(0),
			"startTime": now, "completionTime": now, "duration": "2ms",
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

// createRetrying creates o, retrying briefly while the API server or the
// operator's webhook is busy (429, 5xx, webhook timeouts); an object that
// already exists counts as created.
func createRetrying(ctx context.Context, ri dynamic.ResourceInterface, o *unstructured.Unstructured) error {
	var err error
	for attempt := range 20 {
		_, err = ri.Create(ctx, o, metav1.CreateOptions{})
		if err == nil || apierrors.IsAlreadyExists(err) {
			return nil
		}
		if ctx.Err() != nil || !busy(err) {
			break
		}
		time.Sleep(time.Duration(50*(attempt+1)) * time.Millisecond)
	}
	return fmt.Errorf("create %s %s: %w", o.GetKind(), o.GetName(), err)
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
	changed chan struct{}
}

func trackReady(ctx context.Context, dc dynamic.Interface, gvr schema.GroupVersionResource, ns string, done func(*unstructured.Unstructured) bool) (*readyTracker, error) {
	t := &readyTracker{at: map[string]time.Time{}, changed: make(chan struct{})}
	ri := dc.Resource(gvr).Namespace(ns)
	rv, err := t.list(ctx, ri, done)
	if err != nil {
		return nil, err
	}
	go func() {
		// A watch ends now and then (its timeout, a compaction): list what
		// it missed and watch again from there.
		for ctx.Err() == nil {
			w, err := ri.Watch(ctx, metav1.ListOptions{ResourceVersion: rv, AllowWatchBookmarks: true})
			if err == nil {
				for ev := range w.ResultChan() {
					o, ok := ev.Object.(*unstructured.Unstructured)
					if !ok {
						continue
					}
					rv = o.GetResourceVersion()
					if ev.Type != watch.Deleted && ev.Type != watch.Bookmark && done(o) {
						t.record(o.GetName(), time.Now())
					}
				}
				w.Stop()
			}
			if ctx.Err() != nil {
				return
			}
			time.Sleep(200 * time.Millisecond)
			if next, err := t.list(ctx, ri, done); err == nil {
				rv = next
			}
		}
	}()
	return t, nil
}

// list records the objects already done and returns the list's revision.
func (t *readyTracker) list(ctx context.Context, ri dynamic.ResourceInterface, done func(*unstructured.Unstructured) bool) (string, error) {
	list, err := ri.List(ctx, metav1.ListOptions{})
	if err != nil {
		return "", fmt.Errorf("list: %w", err)
	}
	now := time.Now()
	for i := range list.Items {
		if done(&list.Items[i]) {
			t.record(list.Items[i].GetName(), now)
		}
	}
	return list.GetResourceVersion(), nil
}

func (t *readyTracker) record(name string, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
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

func sandboxReady(o *unstructured.Unstructured) bool {
	p, _, _ := unstructured.NestedString(o.Object, "status", "phase")
	return p == "Ready"
}
