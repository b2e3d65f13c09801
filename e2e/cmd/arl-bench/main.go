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
	"slices"
	"sync"
	"text/tabwriter"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
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

	cfg, _ := restConfig()
	cfg.QPS, cfg.Burst = 1000, 2000 // this bench's own, lower limit
	ctx := context.Background()
	b := &bench{c: newClient(cfg), cs: kubernetes.NewForConfigOrDie(cfg), ns: *ns}

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
		_ = b.c.Delete(ctx, &arlv1.Sandbox{ObjectMeta: metav1.ObjectMeta{Namespace: b.ns, Name: "bench-sandbox"}})
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
	c  client.WithWatch
	cs kubernetes.Interface
	ns string
}

func (b *bench) ensurePool(ctx context.Context, name string, replicas int) error {
	// A pool left by an earlier run with another -pool is resized.
	if err := createOrResize(ctx, b.c, b.ns, pool(name, replicas)); err != nil {
		return fmt.Errorf("create or resize warmpool %s: %w", name, err)
	}
	return b.waitFor(ctx, &arlv1.WarmPoolList{}, name, 5*time.Minute, func(o client.Object) bool {
		p, ok := o.(*arlv1.WarmPool)
		return ok && p.Status.ReadyReplicas >= int32(replicas)
	})
}

func (b *bench) ensureSandbox(ctx context.Context, name, pool string) error {
	sb := sandbox(name, pool)
	sb.Namespace = b.ns
	if err := b.c.Create(ctx, sb); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	return b.waitFor(ctx, &arlv1.SandboxList{}, name, 2*time.Minute, sandboxReady)
}

// waitFor watches the object name of list's kind until ok holds.
func (b *bench) waitFor(ctx context.Context, list client.ObjectList, name string, timeout time.Duration, ok func(client.Object) bool) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	w, err := b.c.Watch(ctx, list, client.InNamespace(b.ns), client.MatchingFields{"metadata.name": name})
	if err != nil {
		return err
	}
	defer w.Stop()
	for ev := range w.ResultChan() {
		if o, isObj := ev.Object.(client.Object); isObj && ok(o) {
			return nil
		}
	}
	return fmt.Errorf("%T %s: not ready within %s", list, name, timeout)
}

// observe starts a watch on the labelled objects of list's kind and
// reports, for each name, the first time done(obj) holds.
func (b *bench) observe(ctx context.Context, list client.ObjectList, done func(client.Object) bool) (<-chan string, error) {
	w, err := b.c.Watch(ctx, list, client.InNamespace(b.ns), client.MatchingLabels(benchLabels))
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
			if o, isObj := ev.Object.(client.Object); isObj && done(o) {
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
	finished, err := b.observe(ctx, &arlv1.TaskList{}, taskFinished)
	if err != nil {
		return nil, nil, err
	}
	prefix := fmt.Sprintf("bench-%d-", time.Now().UnixNano())
	var d, posts []time.Duration
	for i := range n {
		name := fmt.Sprintf("%s%d", prefix, i)
		task := trueTask(name, "bench-sandbox", 30)
		task.Namespace = b.ns
		start := time.Now()
		if err := b.c.Create(ctx, task); err != nil {
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
	ready, err := b.observe(ctx, &arlv1.SandboxList{}, sandboxReady)
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
		sb := sandbox(name, "bench-pool")
		sb.Namespace = b.ns
		start := time.Now()
		if err := b.c.Create(ctx, sb); err != nil {
			return nil, fmt.Errorf("create sandbox %s: %w", name, err)
		}
		if err := waitName(ready, name, 60*time.Second); err != nil {
			return nil, err
		}
		d = append(d, time.Since(start))
		if err := b.c.Delete(ctx, sb); err != nil {
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
	w, err := b.cs.CoreV1().Pods(b.ns).Watch(ctx, metav1.ListOptions{LabelSelector: arlv1.LabelPool + "=" + pool})
	if err != nil {
		return nil, err
	}
	p := &idlePods{idle: map[string]bool{}, changed: make(chan struct{})}
	go func() {
		defer w.Stop()
		for ev := range w.ResultChan() {
			o, ok := ev.Object.(*corev1.Pod)
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

func idleAndReady(p *corev1.Pod) bool {
	if p.Labels[arlv1.LabelState] != arlv1.PodStateIdle || p.DeletionTimestamp != nil {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
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
