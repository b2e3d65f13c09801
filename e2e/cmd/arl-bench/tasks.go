package main

// arl-bench tasks: Task throughput on real pods (the process node). Two
// shapes: N sandboxes each given M `true` tasks at once (throughput, lost
// tasks), and the RL shape, A agents each running T tasks one after
// another (latency). Optionally with an operator flag varied, e.g. the
// worker count halved and doubled. See docs/performance.md, "Task throughput".

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

type taskBench struct {
	c       client.WithWatch
	cs      kubernetes.Interface
	probe   *probe
	ns      string
	done    *readyTracker
	workers int
	seq     int
}

func runTasks(args []string) int {
	fs := flag.NewFlagSet("arl-bench tasks", flag.ExitOnError)
	sandboxes := fs.Int("sandboxes", 50, "throughput: sandboxes")
	perSandbox := fs.Int("per-sandbox", 20, "throughput: `true` tasks per sandbox, all created at once")
	agents := fs.Int("agents", 20, "RL shape: agents, each with its own sandbox")
	perAgent := fs.Int("per-agent", 12, "RL shape: tasks each agent runs one after another")
	runs := fs.Int("runs", 3, "runs of each shape")
	vary := fs.String("vary", "", "operator flag and values to run each shape with, e.g. max-concurrent-tasks=32,64,128 (the Deployment is patched and restored)")
	workers := fs.Int("workers", 64, "client goroutines creating tasks")
	ns := fs.String("namespace", "arl-tasks", "namespace the run creates and deletes")
	stateDir := fs.String("state-dir", "", "the local cluster's state directory, for per-process CPU (default: the kubeconfig's directory)")
	_ = fs.Parse(args)

	cfg, kubeconfig := restConfig()
	if *stateDir == "" {
		*stateDir = filepath.Dir(kubeconfig)
	}
	b := &taskBench{c: newClient(cfg), cs: kubernetes.NewForConfigOrDie(cfg), ns: *ns, workers: *workers}
	b.probe = &probe{cs: b.cs, stateDir: *stateDir, http: &http.Client{Timeout: 5 * time.Second}}
	ctx, stop := interruptible()
	defer stop()

	var rows []string
	err := func() error {
		if err := b.setup(ctx, max(*sandboxes, *agents)); err != nil {
			return err
		}
		settings := []string{""}
		flagName := ""
		if *vary != "" {
			name, values, ok := strings.Cut(*vary, "=")
			if !ok {
				return fmt.Errorf("-vary %q: want NAME=v1,v2", *vary)
			}
			flagName, settings = name, strings.Split(values, ",")
		}
		original, err := b.operatorArgs(ctx)
		if err != nil {
			return err
		}
		defer func() {
			if flagName != "" {
				if err := b.setOperatorArgs(context.Background(), original); err != nil {
					fmt.Fprintf(os.Stderr, "arl-bench tasks: restore the operator's flags: %v\n", err)
				}
			}
		}()
		for _, v := range settings {
			label := "defaults"
			if flagName != "" {
				label = "--" + flagName + "=" + v
				if err := b.setOperatorArgs(ctx, withFlag(original, flagName, v)); err != nil {
					return err
				}
			}
			for run := range *runs {
				if *sandboxes > 0 && *perSandbox > 0 {
					row, err := b.throughput(ctx, *sandboxes, *perSandbox)
					if err != nil {
						return err
					}
					rows = append(rows, fmt.Sprintf("| %s | %d×%d at once, run %d | %s |", label, *sandboxes, *perSandbox, run+1, row))
				}
				if *agents > 0 && *perAgent > 0 {
					row, err := b.rlShape(ctx, *agents, *perAgent)
					if err != nil {
						return err
					}
					rows = append(rows, fmt.Sprintf("| %s | %d agents × %d in sequence, run %d | %s |", label, *agents, *perAgent, run+1, row))
				}
			}
		}
		return nil
	}()
	if err != nil {
		fmt.Fprintf(os.Stderr, "arl-bench tasks: %v\n", err)
	}
	if len(rows) > 0 {
		fmt.Println()
		fmt.Println("| operator | shape | tasks/s | lost | task p50 / p99 | per task: writes beyond the create; API requests | API server CPU per task | CPU cores busy |")
		fmt.Println("|---|---|---|---|---|---|---|---|")
		fmt.Println(strings.Join(rows, "\n"))
	}
	b.cleanup()
	if err != nil {
		return 1
	}
	return 0
}

// setup creates the namespace, a pool on the process node and n Ready
// sandboxes bench-sb-0 ... bench-sb-(n-1).
func (b *taskBench) setup(ctx context.Context, n int) error {
	r := &scaleRun{opts: scaleOptions{ns: b.ns}, c: b.c, cs: b.cs}
	if err := r.ensureNamespace(ctx); err != nil {
		return err
	}
	// Real pods: the process node.
	if err := createRetrying(ctx, b.c, b.ns, pool("tasks-pool", n)); err != nil {
		return err
	}
	var err error
	sbs, err := trackReady(ctx, b.c, &arlv1.SandboxList{}, b.ns, sandboxReady)
	if err != nil {
		return err
	}
	b.done, err = trackReady(ctx, b.c, &arlv1.TaskList{}, b.ns, taskFinished)
	if err != nil {
		return err
	}
	logf("tasks: %d sandboxes on the process node", n)
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("bench-sb-%d", i)
	}
	if err := parallel(ctx, n, 8, func(ctx context.Context, i int) error {
		return createRetrying(ctx, b.c, b.ns, sandbox(names[i], "tasks-pool"))
	}); err != nil {
		return err
	}
	_, err = sbs.waitAll(ctx, names, 10*time.Minute)
	return err
}

// throughput creates m tasks on each of n sandboxes at once and times until
// the last finished.
func (b *taskBench) throughput(ctx context.Context, n, m int) (string, error) {
	b.seq++
	names := make([]string, n*m)
	starts := make([]time.Time, n*m)
	for i := range names {
		names[i] = fmt.Sprintf("tp-%d-%d", b.seq, i)
	}
	before := b.probe.sample(ctx)
	first := time.Now()
	err := parallel(ctx, len(names), b.workers, func(ctx context.Context, i int) error {
		starts[i] = time.Now()
		return createRetrying(ctx, b.c, b.ns, trueTask(names[i], fmt.Sprintf("bench-sb-%d", i%n), 600))
	})
	if err != nil {
		return "", err
	}
	doneAt, waitErr := b.done.waitAll(ctx, names, 3*time.Minute)
	after := b.probe.sample(ctx)
	lost, failed := 0, 0
	if waitErr != nil {
		lost = b.unfinished(names)
	}
	failed = b.failed(names)
	var d []time.Duration
	last := first
	for i, at := range doneAt {
		d = append(d, at.Sub(starts[i]))
		if at.After(last) {
			last = at
		}
	}
	if len(d) == 0 {
		return fmt.Sprintf("— | %d lost, %d failed | — | — | — | —", lost, failed), nil
	}
	c := diff(before, after)
	c.wall = last.Sub(first)
	b.settleLastTaskTime(ctx, after, c)
	return b.row(c, len(names), d, fmt.Sprintf("%d lost, %d failed", lost, failed)), nil
}

// rlShape runs a agents, each creating t tasks on its own sandbox one after
// another, waiting for each to finish.
func (b *taskBench) rlShape(ctx context.Context, a, t int) (string, error) {
	b.seq++
	before := b.probe.sample(ctx)
	lat := make([][]time.Duration, a)
	names := make([]string, 0, a*t)
	for agent := range a {
		for i := range t {
			names = append(names, fmt.Sprintf("rl-%d-%d-%d", b.seq, agent, i))
		}
	}
	first := time.Now()
	err := parallel(ctx, a, a, func(ctx context.Context, agent int) error {
		for i := range t {
			name := names[agent*t+i]
			start := time.Now()
			if err := createRetrying(ctx, b.c, b.ns, trueTask(name, fmt.Sprintf("bench-sb-%d", agent), 600)); err != nil {
				return err
			}
			if _, err := b.done.waitAll(ctx, []string{name}, time.Minute); err != nil {
				return fmt.Errorf("agent %d: %w", agent, err)
			}
			lat[agent] = append(lat[agent], time.Since(start))
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	after := b.probe.sample(ctx)
	c := diff(before, after)
	c.wall = time.Since(first)
	b.settleLastTaskTime(ctx, after, c)
	failed := b.failed(names)
	return b.row(c, a*t, slices.Concat(lat...), fmt.Sprintf("0 lost, %d failed", failed)), nil
}

// settleLastTaskTime waits out the sandboxes' held-back status.lastTaskTime
// writes (the operator's --last-task-time-interval, 10s unless its flags
// say otherwise, plus 2s) and adds the Sandbox status PATCHes that landed
// meanwhile to c: they are part of the shape's cost though they come after
// its last task. The CPU and the other requests stay those of the shape.
func (b *taskBench) settleLastTaskTime(ctx context.Context, after sample, c cost) {
	interval := 10 * time.Second
	if args, err := b.operatorArgs(ctx); err == nil {
		for _, a := range args {
			if v, ok := strings.CutPrefix(a, "--last-task-time-interval="); ok {
				if d, err := time.ParseDuration(v); err == nil {
					interval = d
				}
			}
		}
	}
	select {
	case <-ctx.Done():
		return
	case <-time.After(interval + 2*time.Second):
	}
	const key = "PATCH sandboxes/status"
	if d := b.probe.sample(ctx).requests[key] - after.requests[key]; d > 0 {
		c.requests[key] += d
	}
}

func (b *taskBench) row(c cost, n int, d []time.Duration, lost string) string {
	s := summarize("", d)
	tasks := float64(n)
	writes := c.totalRequests(func(k string) bool {
		verb, res, _ := strings.Cut(k, " ")
		isWrite := verb == "POST" || verb == "PUT" || verb == "PATCH" || verb == "DELETE"
		return isWrite && (verb != "POST" || res != "tasks") // all writes but the task creates
	})
	return fmt.Sprintf("%.0f | %s | %s / %s | %.2f; %s | %.1f ms | %s",
		tasks/c.wall.Seconds(), lost, ms(s.p50), ms(s.p99),
		writes/tasks, c.topRequests(tasks, 5),
		1000*c.cpu["kube-apiserver"]/tasks, c.cpuLine())
}

func (b *taskBench) unfinished(names []string) int {
	b.done.mu.Lock()
	defer b.done.mu.Unlock()
	n := 0
	for _, name := range names {
		if _, ok := b.done.at[name]; !ok {
			n++
		}
	}
	return n
}

// failed counts the names whose Task finished Failed, as the watch saw them
// (a LIST of every Task after each run cost the API server 0.17 s of CPU).
func (b *taskBench) failed(names []string) int {
	b.done.mu.Lock()
	defer b.done.mu.Unlock()
	n := 0
	for _, name := range names {
		if b.done.failed[name] {
			n++
		}
	}
	return n
}

// operatorArgs is the operator container's argument list, where the
// Deployment (the chart's, deploy-operator's) passes the operator's flags;
// the image's entrypoint is the operator.
func (b *taskBench) operatorArgs(ctx context.Context) ([]string, error) {
	d, err := b.cs.AppsV1().Deployments("arl-system").Get(ctx, "arl-operator", metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("get the operator Deployment: %w", err)
	}
	return slices.Clone(d.Spec.Template.Spec.Containers[0].Args), nil
}

// setOperatorArgs rolls the operator out with args and waits until the new
// pods are available and the old ones gone.
func (b *taskBench) setOperatorArgs(ctx context.Context, args []string) error {
	d, err := b.cs.AppsV1().Deployments("arl-system").Get(ctx, "arl-operator", metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("get the operator Deployment: %w", err)
	}
	if slices.Equal(d.Spec.Template.Spec.Containers[0].Args, args) {
		return nil
	}
	logf("operator: rolling out with the flags that changed: %s", strings.Join(changed(d.Spec.Template.Spec.Containers[0].Args, args), " "))
	d.Spec.Template.Spec.Containers[0].Args = args
	d, err = b.cs.AppsV1().Deployments("arl-system").Update(ctx, d, metav1.UpdateOptions{})
	if err != nil {
		return fmt.Errorf("update the operator Deployment: %w", err)
	}
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		cur, err := b.cs.AppsV1().Deployments("arl-system").Get(ctx, "arl-operator", metav1.GetOptions{})
		if err == nil && cur.Status.ObservedGeneration >= d.Generation && cur.Status.UpdatedReplicas == *cur.Spec.Replicas &&
			cur.Status.AvailableReplicas == *cur.Spec.Replicas && cur.Status.Replicas == *cur.Spec.Replicas {
			time.Sleep(3 * time.Second) // the new leader takes its lease and syncs
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
	return fmt.Errorf("the operator did not roll out within 3 minutes")
}

// changed lists the arguments of next that prev lacks.
func changed(prev, next []string) []string {
	return slices.DeleteFunc(slices.Clone(next), func(a string) bool { return slices.Contains(prev, a) })
}

// withFlag returns args with --name=value set (replacing an earlier value).
func withFlag(args []string, name, value string) []string {
	out := slices.DeleteFunc(slices.Clone(args), func(a string) bool { return strings.HasPrefix(a, "--"+name+"=") })
	return append(out, "--"+name+"="+value)
}

func (b *taskBench) cleanup() {
	r := &scaleRun{opts: scaleOptions{ns: b.ns}, c: b.c, cs: b.cs}
	r.cleanup()
}
