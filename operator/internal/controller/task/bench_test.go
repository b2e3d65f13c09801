package task

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
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
	go func() {
		for ev := range w.ResultChan() {
			task, ok := ev.Object.(*arlv1.Task)
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

	runOne := func(name string) (time.Duration, *arlv1.Task) {
		ch := make(chan *arlv1.Task, 1)
		mu.Lock()
		waiters[name] = ch
		mu.Unlock()
		start := time.Now()
		create(b, newTask(testNamespace, name, sb.Name, command("noop", "true")))
		select {
		case task := <-ch:
			return time.Since(start), task
		case <-time.After(30 * time.Second):
			b.Fatalf("task %s not finished within 30s", name)
			return 0, nil
		}
	}
	for i := range 10 { // warm the connection, token and caches
		runOne(fmt.Sprintf("bench-warm-%d-%d", time.Now().UnixNano(), i))
	}

	lat := make([]time.Duration, 0, b.N)
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
	fmt.Printf("task create -> Succeeded (watch), %d tasks: p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms\n",
		len(lat), ms(p(0.50)), ms(p(0.90)), ms(p(0.99)), ms(lat[len(lat)-1]))
}
