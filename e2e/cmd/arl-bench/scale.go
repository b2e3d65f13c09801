package main

// arl-bench scale: the operator with thousands of pool pods, sandboxes and
// finished tasks on simulated (kwok) nodes. See docs/performance.md,
// "Scale".

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

type scaleOptions struct {
	sizes        []int // cumulative totals: idle pods and sandboxes
	burst        int
	poolMax      int
	tasksPer     int // finished task fixtures per sandbox
	steadyClaims int
	workers      int
	ns           string
	keep         bool
	restart      bool
}

// scaleRun holds one run's clients and what it created.
type scaleRun struct {
	opts    scaleOptions
	c       client.WithWatch
	cs      kubernetes.Interface
	probe   *probe
	sandbox *readyTracker
	claimed int // sandboxes created so far
	tasks   int // task fixtures created so far
	rows    []scaleRow
}

// scaleRow is one line of the table.
type scaleRow struct {
	size             int
	scenario, result string
	goal, limit      string
}

func runScale(args []string) int {
	fs := flag.NewFlagSet("arl-bench scale", flag.ExitOnError)
	sizes := fs.String("sizes", "100,1000,10000", "cumulative totals of idle pool pods and claimed sandboxes, one step each")
	burst := fs.Int("burst", 1000, "sandboxes created at once per burst")
	poolMax := fs.Int("pool-max", 1000, "replicas per WarmPool (the pods are spread over pools of this size)")
	tasksPer := fs.Int("tasks-per-sandbox", 10, "finished Task fixtures per sandbox (created with status and a TTL)")
	steady := fs.Int("steady-claims", 100, "claims timed one at a time after each step, with everything present")
	workers := fs.Int("workers", 64, "client goroutines creating objects")
	ns := fs.String("namespace", "arl-scale", "namespace the run creates and deletes")
	keep := fs.Bool("keep", false, "leave the namespace and its objects after the run")
	restart := fs.Bool("restart", true, "time an operator restart after each step")
	stateDir := fs.String("state-dir", "", "the local cluster's state directory, for per-process CPU (default: the kubeconfig's directory)")
	_ = fs.Parse(args)
	opts := scaleOptions{burst: *burst, poolMax: *poolMax, tasksPer: *tasksPer, steadyClaims: *steady, workers: *workers, ns: *ns, keep: *keep, restart: *restart}
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 || (len(opts.sizes) > 0 && n <= opts.sizes[len(opts.sizes)-1]) {
			fail("-sizes %q: want increasing positive totals, e.g. 100,1000,10000", *sizes)
		}
		opts.sizes = append(opts.sizes, n)
	}

	cfg, kubeconfig := restConfig()
	if *stateDir == "" {
		*stateDir = filepath.Dir(kubeconfig)
	}
	r := &scaleRun{opts: opts, c: newClient(cfg), cs: kubernetes.NewForConfigOrDie(cfg)}
	r.probe = &probe{cs: r.cs, stateDir: *stateDir, http: &http.Client{Timeout: 5 * time.Second}}

	ctx, stop := interruptible()
	defer stop()
	err := r.run(ctx)
	if err != nil {
		fmt.Fprintf(os.Stderr, "arl-bench scale: %v\n", err)
	}
	r.print()
	if !opts.keep {
		r.cleanup()
	}
	if err != nil {
		return 1
	}
	return 0
}

func (r *scaleRun) run(ctx context.Context) error {
	need := 2*r.opts.sizes[len(r.opts.sizes)-1] + r.opts.steadyClaims*len(r.opts.sizes) + 10
	if err := r.checkCapacity(ctx, need); err != nil {
		return err
	}
	if err := r.ensureNamespace(ctx); err != nil {
		return err
	}
	var err error
	r.sandbox, err = trackReady(ctx, r.c, &arlv1.SandboxList{}, r.opts.ns, sandboxReady)
	if err != nil {
		return err
	}
	for _, size := range r.opts.sizes {
		if err := r.step(ctx, size); err != nil {
			return fmt.Errorf("step %d: %w", size, err)
		}
	}
	return nil
}

// checkCapacity fails early when the simulated nodes cannot hold the run's
// pods (idle plus claimed, as every claim is refilled).
func (r *scaleRun) checkCapacity(ctx context.Context, need int) error {
	nodes, err := r.cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: "type=kwok"})
	if err != nil {
		return fmt.Errorf("list simulated nodes: %w", err)
	}
	capacity := 0
	for _, n := range nodes.Items {
		capacity += int(n.Status.Allocatable.Pods().Value())
	}
	if capacity < need {
		return fmt.Errorf("the run needs room for %d pods on simulated nodes, the cluster has %d (%d nodes); start it with e.g. `arl-local up --sim-nodes %d --sim-pods-per-node 500`",
			need, capacity, len(nodes.Items), (need+499)/500)
	}
	return nil
}

func (r *scaleRun) ensureNamespace(ctx context.Context) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: r.opts.ns, Labels: benchLabels}}
	_, err := r.cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("namespace %s exists (an earlier run's?): delete it first (kubectl delete ns %s) or pick -namespace", r.opts.ns, r.opts.ns)
	}
	if err != nil {
		return fmt.Errorf("create namespace %s: %w", r.opts.ns, err)
	}
	// Pods need the namespace's default service account to be created.
	for range 100 {
		if _, err := r.cs.CoreV1().ServiceAccounts(r.opts.ns).Get(ctx, "default", metav1.GetOptions{}); err == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("namespace %s has no default service account after 10 s", r.opts.ns)
}

// step brings the run to size idle pods and size sandboxes, then times
// claims, adds task fixtures, reads the operator's memory and restarts it.
func (r *scaleRun) step(ctx context.Context, size int) error {
	logf("step %d: filling pools to %d idle pods", size, size)
	before := r.probe.sample(ctx)
	fill, err := r.fillPools(ctx, size)
	if err != nil {
		return err
	}
	c := diff(before, r.probe.sample(ctx))
	added := float64(size - r.prevSize(size))
	r.add(size, "pool fill: idle pods Ready", fmt.Sprintf("%d pods in %.1f s (%.0f pods/s); per pod: %s", int(added), fill.Seconds(), added/fill.Seconds(), c.topRequests(added, 4)), "", c.cpuLine())

	if err := r.bursts(ctx, size); err != nil {
		return err
	}
	if err := r.waitPoolsFull(ctx, size, 30*time.Minute); err != nil {
		return err
	}
	if err := r.steady(ctx, size); err != nil {
		return err
	}
	if err := r.fixtures(ctx, size); err != nil {
		return err
	}
	time.Sleep(5 * time.Second) // let the operator's caches settle before reading its memory
	s := r.probe.sample(ctx)
	r.add(size, fmt.Sprintf("operator memory (%d pods, %d sandboxes, %d finished tasks)", r.podCount(ctx), r.claimed, r.tasks),
		fmt.Sprintf("RSS %.0f MiB, heap in use %.0f MiB", s.rss["operator"]/(1<<20), s.rss["operator heap in use"]/(1<<20)),
		"RSS <= 300 MiB", fmt.Sprintf("API server RSS %.0f MiB, etcd %.0f MiB", s.rss["kube-apiserver"]/(1<<20), s.rss["etcd"]/(1<<20)))
	if r.opts.restart {
		if err := r.restartOperator(ctx, size); err != nil {
			return err
		}
	}
	return nil
}

func (r *scaleRun) prevSize(size int) int {
	i := slices.Index(r.opts.sizes, size)
	if i <= 0 {
		return 0
	}
	return r.opts.sizes[i-1]
}

func (r *scaleRun) add(size int, scenario, result, goal, limit string) {
	r.rows = append(r.rows, scaleRow{size: size, scenario: scenario, result: result, goal: goal, limit: limit})
	logf("  %s: %s", scenario, result)
}

// fillPools sets the pools' replicas so they hold size idle pods in all,
// and waits until the pools report them Ready.
func (r *scaleRun) fillPools(ctx context.Context, size int) (time.Duration, error) {
	start := time.Now()
	pools := (size + r.opts.poolMax - 1) / r.opts.poolMax
	for i := range pools {
		replicas := min(r.opts.poolMax, size-i*r.opts.poolMax)
		name := fmt.Sprintf("scale-pool-%d", i)
		if err := createOrResize(ctx, r.c, r.opts.ns, simPool(name, replicas)); err != nil {
			return 0, fmt.Errorf("pool %s: %w", name, err)
		}
	}
	if err := r.waitPoolsFull(ctx, size, 60*time.Minute); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// waitPoolsFull waits until the pools' status counts size Ready idle pods.
func (r *scaleRun) waitPoolsFull(ctx context.Context, size int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	lastLog := time.Now()
	for {
		list := &arlv1.WarmPoolList{}
		if err := r.c.List(ctx, list, client.InNamespace(r.opts.ns)); err != nil {
			return fmt.Errorf("list pools: %w", err)
		}
		ready := 0
		for _, p := range list.Items {
			ready += int(p.Status.ReadyReplicas)
		}
		if ready >= size {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("pools hold %d of %d Ready idle pods after %s", ready, size, timeout)
		}
		if time.Since(lastLog) > 15*time.Second {
			logf("  pools: %d of %d idle pods Ready", ready, size)
			lastLog = time.Now()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// bursts claims sandboxes until size exist, burst at a time, each burst
// created as fast as the client can and timed until all are Ready.
func (r *scaleRun) bursts(ctx context.Context, size int) error {
	var all []time.Duration
	var spans []float64
	before := r.probe.sample(ctx)
	n0 := r.claimed
	for r.claimed < size {
		b := min(r.opts.burst, size-r.claimed)
		names := make([]string, b)
		starts := make([]time.Time, b)
		for i := range names {
			names[i] = fmt.Sprintf("scale-sb-%d", r.claimed+i)
		}
		pools := (size + r.opts.poolMax - 1) / r.opts.poolMax
		first := time.Now()
		err := parallel(ctx, b, r.opts.workers, func(ctx context.Context, i int) error {
			starts[i] = time.Now()
			sb := sandbox(names[i], fmt.Sprintf("scale-pool-%d", (r.claimed+i)%pools))
			return createRetrying(ctx, r.c, r.opts.ns, sb)
		})
		created := time.Since(first)
		if err != nil {
			return err
		}
		readyAt, err := r.sandbox.waitAll(ctx, names, 10*time.Minute)
		if err != nil {
			return fmt.Errorf("burst of %d: %w", b, err)
		}
		last := slices.MaxFunc(readyAt, func(a, b time.Time) int { return a.Compare(b) })
		span := last.Sub(first)
		spans = append(spans, span.Seconds())
		for i := range names {
			all = append(all, readyAt[i].Sub(starts[i]))
		}
		r.claimed += b
		logf("  burst of %d: all Ready %.2f s after the first create (creates took %.2f s); %d sandboxes", b, span.Seconds(), created.Seconds(), r.claimed)
	}
	c := diff(before, r.probe.sample(ctx))
	claims := float64(r.claimed - n0)
	s := summarize("", all)
	r.add(size, fmt.Sprintf("claims in bursts of %d", r.opts.burst),
		fmt.Sprintf("%d bursts, all Ready in %s s per burst (%.0f claims/s overall); claim p50 %s, p99 %s",
			len(spans), floats(spans), claims/c.wall.Seconds(), ms(s.p50), ms(s.p99)),
		"each burst <= 3 s (>= 300 claims/s)", c.cpuLine())
	r.add(size, "API requests per claim (burst phase, refill included)",
		fmt.Sprintf("%.1f: %s", c.totalRequests(notWatch)/claims, c.topRequests(claims, 6)), "", "")
	return nil
}

// steady times claims one at a time with everything of the step present.
func (r *scaleRun) steady(ctx context.Context, size int) error {
	if r.opts.steadyClaims == 0 {
		return nil
	}
	before := r.probe.sample(ctx)
	var d []time.Duration
	for i := range r.opts.steadyClaims {
		name := fmt.Sprintf("scale-steady-%d-%d", size, i)
		start := time.Now()
		if err := createRetrying(ctx, r.c, r.opts.ns, sandbox(name, fmt.Sprintf("scale-pool-%d", i%((size+r.opts.poolMax-1)/r.opts.poolMax)))); err != nil {
			return err
		}
		if _, err := r.sandbox.waitAll(ctx, []string{name}, time.Minute); err != nil {
			return err
		}
		d = append(d, time.Since(start))
		r.claimed++
	}
	c := diff(before, r.probe.sample(ctx))
	s := summarize("", d)
	r.add(size, fmt.Sprintf("claim one at a time, %d objects present (n=%d)", size, len(d)),
		fmt.Sprintf("p50 %s, p99 %s, max %s", ms(s.p50), ms(s.p99), ms(s.max)), "p99 <= 50 ms",
		fmt.Sprintf("per claim: %.1f requests; %s", c.totalRequests(notWatch)/float64(len(d)), c.cpuLine()))
	return nil
}

// fixtures creates finished Tasks until there are tasksPer per sandbox of
// the step, each created and then given its finished status.
func (r *scaleRun) fixtures(ctx context.Context, size int) error {
	want := size * r.opts.tasksPer
	if want <= r.tasks {
		return nil
	}
	n := want - r.tasks
	logf("  creating %d finished task fixtures", n)
	before := r.probe.sample(ctx)
	base := r.tasks
	err := parallel(ctx, n, r.opts.workers, func(ctx context.Context, i int) error {
		// A sandbox that does not exist: the operator only records that the
		// task waits, and never dials a simulated pod.
		t := finishedTask(fmt.Sprintf("scale-task-%d", base+i), "scale-no-such-sandbox")
		if err := createRetrying(ctx, r.c, r.opts.ns, t); err != nil {
			return err
		}
		for attempt := 0; ; attempt++ {
			cur := &arlv1.Task{}
			if err := r.c.Get(ctx, client.ObjectKey{Namespace: r.opts.ns, Name: t.Name}, cur); err != nil {
				return fmt.Errorf("get task %s: %w", t.Name, err)
			}
			finishedStatus(cur)
			err := r.c.Status().Update(ctx, cur) // the status subresource
			if err == nil {
				return nil
			}
			if !apierrors.IsConflict(err) || attempt > 10 {
				return fmt.Errorf("finish task %s: %w", t.Name, err)
			}
		}
	})
	c := diff(before, r.probe.sample(ctx))
	if err != nil {
		return err
	}
	r.tasks = want
	r.add(size, "finished task fixtures created", fmt.Sprintf("%d in %.1f s (%.0f/s); per fixture: %s", n, c.wall.Seconds(), float64(n)/c.wall.Seconds(), c.topRequests(float64(n), 4)), "", c.cpuLine())
	return nil
}

// restartOperator deletes the operator's pod and times until a sandbox
// created at that moment is Ready (the new pod started, won the lease,
// synced its caches and claimed).
func (r *scaleRun) restartOperator(ctx context.Context, size int) error {
	pods, err := r.cs.CoreV1().Pods("arl-system").List(ctx, metav1.ListOptions{LabelSelector: "app=arl-operator"})
	if err != nil || len(pods.Items) == 0 {
		return fmt.Errorf("find the operator pod: %v (%d pods)", err, len(pods.Items))
	}
	start := time.Now()
	for _, p := range pods.Items {
		if err := r.cs.CoreV1().Pods("arl-system").Delete(ctx, p.Name, metav1.DeleteOptions{}); err != nil {
			return fmt.Errorf("delete operator pod %s: %w", p.Name, err)
		}
	}
	name := fmt.Sprintf("scale-restart-%d", size)
	pool := "scale-pool-0"
	// The webhook answers only once the new operator runs: retry the create.
	for {
		sb := sandbox(name, pool)
		sb.Namespace = r.opts.ns
		err := r.c.Create(ctx, sb)
		if err == nil || apierrors.IsAlreadyExists(err) {
			break
		}
		if time.Since(start) > 5*time.Minute {
			return fmt.Errorf("create a sandbox after the restart: %w", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	created := time.Since(start)
	if _, err := r.sandbox.waitAll(ctx, []string{name}, 5*time.Minute); err != nil {
		return err
	}
	r.claimed++
	r.add(size, "operator restart: pod deleted → a new sandbox Ready",
		fmt.Sprintf("%.1f s (its create was admitted after %.1f s)", time.Since(start).Seconds(), created.Seconds()), "<= 10 s", "")
	return nil
}

func (r *scaleRun) podCount(ctx context.Context) int {
	list, err := r.cs.CoreV1().Pods(r.opts.ns).List(ctx, metav1.ListOptions{ResourceVersion: "0"})
	if err != nil {
		return -1
	}
	return len(list.Items)
}

// cleanup deletes the run's namespace and waits until it is gone (a second
// Ctrl-C leaves it deleting in the background).
func (r *scaleRun) cleanup() {
	ctx, stop := interruptible()
	defer stop()
	logf("cleanup: deleting namespace %s and everything in it", r.opts.ns)
	if err := r.cs.CoreV1().Namespaces().Delete(ctx, r.opts.ns, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		fmt.Fprintf(os.Stderr, "arl-bench scale: delete namespace %s: %v\n", r.opts.ns, err)
		return
	}
	start := time.Now()
	for {
		_, err := r.cs.CoreV1().Namespaces().Get(ctx, r.opts.ns, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			logf("cleanup: namespace %s gone after %.1f s", r.opts.ns, time.Since(start).Seconds())
			return
		}
		select {
		case <-ctx.Done():
			logf("cleanup: interrupted; namespace %s is still being deleted by the cluster", r.opts.ns)
			return
		case <-time.After(time.Second):
		}
	}
}

func (r *scaleRun) print() {
	if len(r.rows) == 0 {
		return
	}
	fmt.Println()
	fmt.Println("| size | scenario | result | goal | where the time goes (CPU cores busy) |")
	fmt.Println("|---|---|---|---|---|")
	for _, row := range r.rows {
		fmt.Printf("| %d | %s | %s | %s | %s |\n", row.size, row.scenario, row.result, row.goal, row.limit)
	}
}

func notWatch(k string) bool { return !strings.HasPrefix(k, "WATCH") }

func floats(v []float64) string {
	parts := make([]string, len(v))
	for i, f := range v {
		parts[i] = fmt.Sprintf("%.2f", f)
	}
	return strings.Join(parts, " / ")
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[%s] %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// createOrResize creates the pool in ns or, when one of its name exists (an
// earlier run's, of another size), sets its replicas.
func createOrResize(ctx context.Context, c client.Client, ns string, p *arlv1.WarmPool) error {
	p.Namespace = ns
	err := c.Create(ctx, p.DeepCopy())
	if apierrors.IsAlreadyExists(err) {
		cur := &arlv1.WarmPool{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: p.Name}}
		resize := client.MergeFrom(cur.DeepCopy())
		cur.Spec.Replicas = ptr.To(p.DesiredReplicas())
		err = c.Patch(ctx, cur, resize)
	}
	return err
}
