package sandbox

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
	"github.com/arl-infra/arl/operator/internal/testenv"
)

// BenchmarkSandboxCreateToReady measures Sandbox create -> phase Ready seen
// by a watcher, with a warm pool of 10 that refills while it runs (a fake
// kubelet marks new pods Ready). It reports p50 and p99 in ms.
func BenchmarkSandboxCreateToReady(b *testing.B) {
	env := suite.Env(b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ns, err := env.Namespace(ctx, "bench")
	if err != nil {
		b.Fatal(err)
	}
	c := env.Client
	pool := &arlv1.WarmPool{ObjectMeta: metav1.ObjectMeta{Name: "bench-pool", Namespace: ns}}
	pool.Spec.Replicas = ptrInt32(10)
	pool.Spec.Template.Spec.Containers = []corev1.Container{{Name: "executor", Image: "busybox", Command: []string{"sleep", "infinity"}}}
	if err := c.Create(ctx, pool); err != nil {
		b.Fatal(err)
	}
	go fakeKubelet(ctx, c, ns)
	testenv.Eventually(b, waitFor, "10 ready idle pods", func() (bool, error) {
		got := &arlv1.WarmPool{}
		err := c.Get(ctx, client.ObjectKeyFromObject(pool), got)
		return err == nil && got.Status.ReadyReplicas == 10, err
	})

	wc, err := client.NewWithWatch(env.Config, client.Options{Scheme: env.Scheme})
	if err != nil {
		b.Fatal(err)
	}
	w, err := wc.Watch(ctx, &arlv1.SandboxList{}, client.InNamespace(ns))
	if err != nil {
		b.Fatal(err)
	}
	defer w.Stop()
	var mu sync.Mutex
	readyAt := map[string]time.Time{}
	seen := make(chan string, 1024)
	go func() {
		for ev := range w.ResultChan() {
			sb, ok := ev.Object.(*arlv1.Sandbox)
			if !ok || ev.Type == watch.Deleted || sb.Status.Phase != arlv1.SandboxPhaseReady {
				continue
			}
			mu.Lock()
			if _, done := readyAt[sb.Name]; !done {
				readyAt[sb.Name] = time.Now()
				seen <- sb.Name
			}
			mu.Unlock()
		}
	}()

	var lat, creates []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		name := fmt.Sprintf("sb-%d", i)
		start := time.Now()
		if err := c.Create(ctx, &arlv1.Sandbox{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec: arlv1.SandboxSpec{PoolRef: "bench-pool", KeepAlive: true}}); err != nil {
			b.Fatal(err)
		}
		creates = append(creates, time.Since(start))
		select {
		case got := <-seen:
			if got != name {
				b.Fatalf("saw %s Ready while waiting for %s", got, name)
			}
		case <-time.After(waitFor):
			b.Fatalf("%s not Ready", name)
		}
		mu.Lock()
		lat = append(lat, readyAt[name].Sub(start))
		mu.Unlock()
		// Delete it as a user would; the pod goes, the pool keeps refilling.
		_ = c.Delete(ctx, &arlv1.Sandbox{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}})
	}
	b.StopTimer()
	slices.Sort(lat)
	slices.Sort(creates)
	p := func(d []time.Duration, q float64) float64 {
		return float64(d[int(q*float64(len(d)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(p(lat, 0.5), "p50-ms")
	b.ReportMetric(p(lat, 0.99), "p99-ms")
	// One API write (the Sandbox create itself), for scale: create -> Ready
	// needs three writes in sequence (create, pod patch, status patch).
	b.ReportMetric(p(creates, 0.5), "create-p50-ms")
}

// fakeKubelet marks every new idle pod of ns Ready, as a node would once
// its sidecar answers.
func fakeKubelet(ctx context.Context, c client.Client, ns string) {
	marked := map[string]bool{}
	n := 0
	for ctx.Err() == nil {
		var pods corev1.PodList
		if err := c.List(ctx, &pods, client.InNamespace(ns)); err == nil {
			for i := range pods.Items {
				p := &pods.Items[i]
				if marked[p.Name] {
					continue
				}
				n++
				if testenv.MarkPodReady(ctx, c, p, fmt.Sprintf("10.245.%d.%d", n/250, n%250+1)) == nil {
					marked[p.Name] = true
				}
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func ptrInt32(v int32) *int32 { return &v }
