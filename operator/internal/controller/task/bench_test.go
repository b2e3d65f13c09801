package task

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
	"github.com/arl-infra/arl/operator/internal/sidecarclient"
	sidecarv1 "github.com/arl-infra/arl/proto/gen/arl/sidecar/v1"
)

// BenchmarkTaskCreateToSucceeded measures what a user of the Task API
// waits for: from the Create call of a one-step `true` task to the watch
// event that shows it Succeeded, against the real apiserver and a real
// sidecar on a warm (Ready) sandbox. It reports p50 and p99.
//
//	KUBEBUILDER_ASSETS=... go test ./internal/controller/task -run '^$' -bench TaskCreateToSucceeded -benchtime 200x
func BenchmarkTaskCreateToSucceeded(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sb := createReadySandbox(b, testNamespace, uniqueName(b, "sb"), testDir(b))

	w, err := k8s.Watch(ctx, &arlv1.TaskList{}, client.InNamespace(testNamespace))
	if err != nil {
		b.Fatalf("watch tasks: %v", err)
	}
	defer w.Stop()
	var mu sync.Mutex
	waiters := map[string]chan *arlv1.Task{}
	runningSeen := map[string]time.Time{}
	go func() {
		for ev := range w.ResultChan() {
			task, ok := ev.Object.(*arlv1.Task)
			if ok && task.Status.State == arlv1.TaskStateRunning {
				mu.Lock()
				if _, seen := runningSeen[task.Name]; !seen {
					runningSeen[task.Name] = time.Now()
				}
				mu.Unlock()
			}
			if !ok || !task.IsFinished() {
				continue
			}
			mu.Lock()
			ch := waiters[task.Name]
			delete(waiters, task.Name)
			mu.Unlock()
			if ch != nil {
				ch <- task
			}
		}
	}()

	var toRunning []time.Duration
	runOne := func(name string) (time.Duration, *arlv1.Task) {
		ch := make(chan *arlv1.Task, 1)
		mu.Lock()
		waiters[name] = ch
		mu.Unlock()
		start := time.Now()
		create(b, newTask(testNamespace, name, sb.Name, command("noop", "true")))
		select {
		case task := <-ch:
			took := time.Since(start)
			mu.Lock()
			if at, ok := runningSeen[task.Name]; ok {
				toRunning = append(toRunning, at.Sub(start))
			}
			mu.Unlock()
			return took, task
		case <-time.After(30 * time.Second):
			b.Fatalf("task %s not finished within 30s", name)
			return 0, nil
		}
	}
	for i := range 10 { // warm the connection, token and caches
		runOne(fmt.Sprintf("bench-warm-%d-%d", time.Now().UnixNano(), i))
	}

	lat := make([]time.Duration, 0, b.N)
	toRunning = nil
	b.ResetTimer()
	for i := range b.N {
		d, task := runOne(fmt.Sprintf("bench-%d-%d", time.Now().UnixNano(), i))
		if task.Status.State != arlv1.TaskStateSucceeded {
			b.Fatalf("task %s: %s (%s)", task.Name, task.Status.State, task.Status.Message)
		}
		lat = append(lat, d)
	}
	b.StopTimer()
	slices.Sort(lat)
	p := func(q float64) time.Duration { return lat[min(len(lat)-1, int(q*float64(len(lat))))] }
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(p(0.50)), "p50-ms")
	b.ReportMetric(ms(p(0.99)), "p99-ms")
	b.ReportMetric(0, "ns/op")
	if len(toRunning) > 0 {
		slices.Sort(toRunning)
		fmt.Printf("  of which create -> Running seen (the attempt recorded): p50 %.2f ms (%d samples)\n",
			ms(toRunning[len(toRunning)/2]), len(toRunning))
	}
	fmt.Printf("task create -> Succeeded (watch), %d tasks: p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms\n",
		len(lat), ms(p(0.50)), ms(p(0.90)), ms(p(0.99)), ms(lat[len(lat)-1]))
}

// BenchmarkAPIServerFloor measures, on the same apiserver and in a
// namespace no controller watches, the two kinds of round trip a task is
// made of: a create seen by a watcher, and a status update seen by a
// watcher. A task costs one create, two status updates and a sidecar call,
// so this is the floor BenchmarkTaskCreateToSucceeded is compared with.
func BenchmarkAPIServerFloor(b *testing.B) {
	ctx := context.Background()
	ns := uniqueName(b, "floor")
	create(b, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	w, err := k8s.Watch(ctx, &arlv1.TaskList{}, client.InNamespace(ns))
	if err != nil {
		b.Fatalf("watch: %v", err)
	}
	defer w.Stop()
	events := w.ResultChan()
	var creates, updates []time.Duration
	b.ResetTimer()
	for i := range b.N {
		task := newTask(ns, fmt.Sprintf("floor-%d", i), "none", command("x", "true"))
		start := time.Now()
		create(b, task)
		<-events
		creates = append(creates, time.Since(start))
		task.Status = claimedStatus(task, plan{attempt: 1, maxAttempts: 1, podName: "p"}, time.Now())
		start = time.Now()
		if err := k8s.Status().Update(ctx, task); err != nil {
			b.Fatalf("status update: %v", err)
		}
		<-events
		updates = append(updates, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(creates)
	slices.Sort(updates)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(creates[len(creates)/2]), "create-p50-ms")
	b.ReportMetric(ms(updates[len(updates)/2]), "update-p50-ms")
	b.ReportMetric(0, "ns/op")
	fmt.Printf("apiserver floor, %d rounds: create -> seen p50 %.2f ms; status update -> seen p50 %.2f ms\n",
		len(creates), ms(creates[len(creates)/2]), ms(updates[len(updates)/2]))
}

// BenchmarkSidecarExecute measures one Execute of `true` through the
// operator's sidecar client (h2c gRPC, token, cached connection) against
// the real sidecar: the part of a task's latency that is the step itself.
func BenchmarkSidecarExecute(b *testing.B) {
	pool := sidecarclient.NewPool()
	defer pool.Close()
	c := pool.Client(fmt.Sprintf("127.0.0.1:%d", sidecarPort))
	call := func() {
		req := sidecarclient.WithToken(connect.NewRequest(&sidecarv1.ExecuteRequest{Command: []string{"true"}, TimeoutSeconds: 10}), sidecarToken)
		resp, err := c.Execute(context.Background(), req)
		if err != nil || resp.Msg.GetExitCode() != 0 {
			b.Fatalf("execute true: %v %v", err, resp)
		}
	}
	for range 10 {
		call()
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		call()
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	ms := float64(lat[len(lat)/2].Microseconds()) / 1000
	b.ReportMetric(ms, "p50-ms")
	b.ReportMetric(0, "ns/op")
	fmt.Printf("sidecar Execute(true), %d calls: p50 %.2f ms\n", len(lat), ms)
}
