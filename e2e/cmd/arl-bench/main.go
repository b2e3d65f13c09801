// Command arl-bench measures the operator's hot paths on a live cluster and
// prints a table: (a) Task create → Succeeded as a watcher sees it, for a
// one-step `true`, and (b) Sandbox create → Ready from a warm pool.
// `arl-bench scale` runs thousands of sandboxes on simulated nodes
// (scale.go); `arl-bench tasks` measures task throughput (tasks.go).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"text/tabwriter"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/clientcmd"
)

var (
	poolGVR    = schema.GroupVersionResource{Group: "arl.infra.io", Version: "v1alpha1", Resource: "warmpools"}
	sandboxGVR = schema.GroupVersionResource{Group: "arl.infra.io", Version: "v1alpha1", Resource: "sandboxes"}
	taskGVR    = schema.GroupVersionResource{Group: "arl.infra.io", Version: "v1alpha1", Resource: "tasks"}
	podGVR     = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "scale" {
		os.Exit(runScale(os.Args[2:]))
	}
	if len(os.Args) > 1 && os.Args[1] == "tasks" {
		os.Exit(runTasks(os.Args[2:]))
	}
	n := flag.Int("n", 200, "iterations per run")
	runs := flag.Int("runs", 3, "runs of each benchmark")
	poolSize := flag.Int("pool", 20, "replicas of the bench pool")
	ns := flag.String("namespace", "default", "namespace")
	only := flag.String("only", "", "run only 'task' or 'sandbox'")
	settled := flag.Int("settled", 0, "also time this many sandboxes taken from a full pool (no refill running), one run")
	drained := flag.Int("drained", 60, "also time this many sandboxes created back to back without waiting for an idle pod (the refill tail), one run; 0 skips it")
	flag.Parse()

	kubeconfig := os.Getenv("KUBECONFIG")
	if kubeconfig == "" {
		kubeconfig = filepath.Join(".state", "local", "kubeconfig")
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		fail("load kubeconfig %s: %v (start the local cluster with `make local-up`)", kubeconfig, err)
	}
	cfg.QPS, cfg.Burst = 1000, 2000
	dc := dynamic.NewForConfigOrDie(cfg)
	ctx := context.Background()
	b := &bench{dc: dc, ns: *ns}

	if err := b.ensurePool(ctx, "bench-pool", *poolSize); err != nil {
		fail("bench pool: %v", err)
	}
	var rows []row
	if *only == "" || *only == "task" {
		if err := b.ensureSandbox(ctx, "bench-sandbox", "bench-pool"); err != nil {
			fail("bench sandbox: %v", err)
		}
		for r := range *runs {
			d, posts, err := b.taskRun(ctx, *n)
			if err != nil {
				fail("task run %d: %v", r+1, err)
			}
			rows = append(rows, summarize(fmt.Sprintf("task create→Succeeded (run %d)", r+1), d))
			rows = append(rows, summarize(fmt.Sprintf("  of which the create call (run %d)", r+1), posts))
		}
		_ = b.dc.Resource(sandboxGVR).Namespace(b.ns).Delete(ctx, "bench-sandbox", metav1.DeleteOptions{})
	}
	if *only == "" || *only == "sandbox" {
		for r := range *runs {
			d, err := b.sandboxRun(ctx, *n, 1, false)
			if err != nil {
				fail("sandbox run %d: %v", r+1, err)
			}
			rows = append(rows, summarize(fmt.Sprintf("sandbox create→Ready (run %d)", r+1), d))
		}
		if *settled > 0 {
			d, err := b.sandboxRun(ctx, *settled, *poolSize, true)
			if err != nil {
				fail("settled sandbox run: %v", err)
			}
			rows = append(rows, summarize(fmt.Sprintf("sandbox create→Ready, pool full (n=%d)", *settled), d))
		}
		if *drained > 0 {
			if err := b.ensurePool(ctx, "bench-pool", *poolSize); err != nil {
				fail("bench pool: %v", err)
			}
			d, err := b.sandboxRun(ctx, *drained, 0, false)
			if err != nil {
				fail("drained sandbox run: %v", err)
			}
			rows = append(rows, summarize(fmt.Sprintf("sandbox create→Ready, no wait for idle pods (n=%d)", *drained), d))
		}
	}
	print(rows, *n)
}

type bench struct {
	dc dynamic.Interface
	ns string
}

func (b *bench) ensurePool(ctx context.Context, name string, replicas int) error {
	pool := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "arl.infra.io/v1alpha1", "kind": "WarmPool",
		"metadata": map[string]any{"name": name},
		"spec": map[string]any{
			"replicas": int64(replicas),
			"template": map[string]any{"spec": map[string]any{"containers": []any{map[string]any{
				"name": "executor", "image": "python:3.9-slim", "command": []any{"sleep", "infinity"},
			}}}},
		},
	}}
	_, err := b.dc.Resource(poolGVR).Namespace(b.ns).Create(ctx, pool, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		// A pool left by an earlier run with another -pool: resize it.
		resize := fmt.Appendf(nil, `{"spec":{"replicas":%d}}`, replicas)
		_, err = b.dc.Resource(poolGVR).Namespace(b.ns).Patch(ctx, name, types.MergePatchType, resize, metav1.PatchOptions{})
	}
	if err != nil {
		return fmt.Errorf("create or resize warmpool %s: %w", name, err)
	}
	return b.waitFor(ctx, poolGVR, name, 5*time.Minute, func(o *unstructured.Unstructured) bool {
		ready, _, _ := unstructured.NestedInt64(o.Object, "status", "readyReplicas")
		return ready >= int64(replicas)
	})
}

func (b *bench) ensureSandbox(ctx context.Context, name, pool string) error {
	sb := sandbox(name, pool)
	_, err := b.dc.Resource(sandboxGVR).Namespace(b.ns).Create(ctx, sb, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	return b.waitFor(ctx, sandboxGVR, name, 2*time.Minute, func(o *unstructured.Unstructured) bool {
		p, _, _ := unstructured.NestedString(o.Object, "status", "phase")
		return p == "Ready"
	})
}

func sandbox(name, pool string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "arl.infra.io/v1alpha1", "kind": "Sandbox",
		"metadata": map[string]any{"name": name, "labels": map[string]any{"arl-bench": "yes"}},
		"spec":     map[string]any{"poolRef": pool, "keepAlive": true},
	}}
}

func (b *bench) waitFor(ctx context.Context, gvr schema.GroupVersionResource, name string, timeout time.Duration, ok func(*unstructured.Unstructured) bool) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	w, err := b.dc.Resource(gvr).Namespace(b.ns).Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + name})
	if err != nil {
		return err
	}
	defer w.Stop()
	for ev := range w.ResultChan() {
		if o, isObj := ev.Object.(*unstructured.Unstructured); isObj && ok(o) {
			return nil
		}
	}
	return fmt.Errorf("%s/%s: not ready within %s", gvr.Resource, name, timeout)
}

// observe starts a watch on the labelled objects of gvr and reports, for each
// name, the first time done(obj) holds.
func (b *bench) observe(ctx context.Context, gvr schema.GroupVersionResource, done func(*unstructured.Unstructured) bool) (<-chan string, error) {
	w, err := b.dc.Resource(gvr).Namespace(b.ns).Watch(ctx, metav1.ListOptions{LabelSelector: "arl-bench=yes"})
	if err != nil {
		return nil, err
	}
	out := make(chan string, 1024)
	go func() {
		defer w.Stop()
		for ev := range w.ResultChan() {
			if ev.Type == watch.Error {
				continue
			}
			if o, isObj := ev.Object.(*unstructured.Unstructured); isObj && done(o) {
				out <- o.GetName()
			}
		}
	}()
	return out, nil
}

// taskRun returns, per task, create → Succeeded and the create call alone.
func (b *bench) taskRun(ctx context.Context, n int) ([]time.Duration, []time.Duration, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	finished, err := b.observe(ctx, taskGVR, func(o *unstructured.Unstructured) bool {
		s, _, _ := unstructured.NestedString(o.Object, "status", "state")
		return s == "Succeeded" || s == "Failed"
	})
	if err != nil {
		return nil, nil, err
	}
	prefix := fmt.Sprintf("bench-%d-", time.Now().UnixNano())
	var d, posts []time.Duration
	for i := range n {
		name := fmt.Sprintf("%s%d", prefix, i)
		task := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "arl.infra.io/v1alpha1", "kind": "Task",
			"metadata": map[string]any{"name": name, "labels": map[string]any{"arl-bench": "yes"}},
			"spec": map[string]any{"sandboxRef": "bench-sandbox", "ttlSecondsAfterFinished": int64(30), "steps": []any{
				map[string]any{"name": "noop", "type": "Command", "command": []any{"true"}},
			}},
		}}
		start := time.Now()
		if _, err := b.dc.Resource(taskGVR).Namespace(b.ns).Create(ctx, task, metav1.CreateOptions{}); err != nil {
			return nil, nil, fmt.Errorf("create task %s: %w", name, err)
		}
		posts = append(posts, time.Since(start))
		if err := waitName(finished, name, 30*time.Second); err != nil {
			return nil, nil, err
		}
		d = append(d, time.Since(start))
	}
	return d, posts, nil
}

// sandboxRun measures allocation: before each (untimed) create it waits
// until the pool has at least minIdle idle, Ready pods, as a watch on the
// pool's pods shows them (the pool's status is written at most once a
// second, too late to tell). 1 measures allocation from a warm pool while it
// refills; the pool size (with settle: a second more for the last pod's
// teardown) measures it with no refill running; 0 does not
// wait, so once the sandboxes outrun the refill they wait for new pods
// (the refill tail). One watch per kind follows the whole run (a watch per
// iteration would add its own load to what is measured).
func (b *bench) sandboxRun(ctx context.Context, n int, minIdle int, settle bool) ([]time.Duration, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ready, err := b.observe(ctx, sandboxGVR, func(o *unstructured.Unstructured) bool {
		p, _, _ := unstructured.NestedString(o.Object, "status", "phase")
		return p == "Ready"
	})
	if err != nil {
		return nil, err
	}
	idle, err := b.followIdlePods(ctx, "bench-pool")
	if err != nil {
		return nil, err
	}
	prefix := fmt.Sprintf("bench-sb-%d-", time.Now().UnixNano())
	var d []time.Duration
	for i := range n {
		if err := idle.wait(minIdle, time.Minute); err != nil {
			return nil, fmt.Errorf("wait for an idle pod: %w", err)
		}
		if settle && i > 0 {
			// The pool is full again; let the last pod's teardown finish too.
			time.Sleep(time.Second)
		}
		name := fmt.Sprintf("%s%d", prefix, i)
		start := time.Now()
		if _, err := b.dc.Resource(sandboxGVR).Namespace(b.ns).Create(ctx, sandbox(name, "bench-pool"), metav1.CreateOptions{}); err != nil {
			return nil, fmt.Errorf("create sandbox %s: %w", name, err)
		}
		if err := waitName(ready, name, 60*time.Second); err != nil {
			return nil, err
		}
		d = append(d, time.Since(start))
		if err := b.dc.Resource(sandboxGVR).Namespace(b.ns).Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
			return nil, fmt.Errorf("delete sandbox %s: %w", name, err)
		}
	}
	return d, nil
}

// idlePods counts a pool's idle, Ready pods as a watch reports them.
type idlePods struct {
	mu      sync.Mutex
	idle    map[string]bool // pod name -> idle and Ready
	changed chan struct{}   // closed and replaced on every change
}

// followIdlePods watches the pool's pods until ctx ends.
func (b *bench) followIdlePods(ctx context.Context, pool string) (*idlePods, error) {
	w, err := b.dc.Resource(podGVR).Namespace(b.ns).Watch(ctx, metav1.ListOptions{LabelSelector: "arl.infra.io/pool=" + pool})
	if err != nil {
		return nil, err
	}
	p := &idlePods{idle: map[string]bool{}, changed: make(chan struct{})}
	go func() {
		defer w.Stop()
		for ev := range w.ResultChan() {
			o, ok := ev.Object.(*unstructured.Unstructured)
			if !ok {
				continue
			}
			p.mu.Lock()
			if ev.Type == watch.Deleted {
				delete(p.idle, o.GetName())
			} else {
				p.idle[o.GetName()] = idleAndReady(o)
			}
			close(p.changed)
			p.changed = make(chan struct{})
			p.mu.Unlock()
		}
	}()
	return p, nil
}

func idleAndReady(o *unstructured.Unstructured) bool {
	if o.GetLabels()["arl.infra.io/state"] != "idle" || o.GetDeletionTimestamp() != nil {
		return false
	}
	conds, _, _ := unstructured.NestedSlice(o.Object, "status", "conditions")
	for _, c := range conds {
		if m, ok := c.(map[string]any); ok && m["type"] == "Ready" {
			return m["status"] == "True"
		}
	}
	return false
}

// wait returns once at least min pods are idle and Ready.
func (p *idlePods) wait(min int, timeout time.Duration) error {
	deadline := time.After(timeout)
	for {
		p.mu.Lock()
		n := 0
		for _, ok := range p.idle {
			if ok {
				n++
			}
		}
		changed := p.changed
		p.mu.Unlock()
		if n >= min {
			return nil
		}
		select {
		case <-changed:
		case <-deadline:
			return fmt.Errorf("fewer than %d idle Ready pods after %s", min, timeout)
		}
	}
}

func waitName(ch <-chan string, name string, timeout time.Duration) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		select {
		case got := <-ch:
			if got == name {
				return nil
			}
		case <-t.C:
			return fmt.Errorf("%s not done within %s", name, timeout)
		}
	}
}

type row struct {
	name          string
	p50, p99, max time.Duration
}

func summarize(name string, d []time.Duration) row {
	s := slices.Clone(d)
	slices.Sort(s)
	pct := func(p float64) time.Duration { return s[min(len(s)-1, int(float64(len(s))*p))] }
	return row{name: name, p50: pct(0.50), p99: pct(0.99), max: s[len(s)-1]}
}

func print(rows []row, n int) {
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "benchmark (n=%d)\tp50\tp99\tmax\t\n", n)
	for _, r := range rows {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t\n", r.name, ms(r.p50), ms(r.p99), ms(r.max))
	}
	w.Flush()
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "arl-bench: "+format+"\n", args...)
	os.Exit(1)
}
