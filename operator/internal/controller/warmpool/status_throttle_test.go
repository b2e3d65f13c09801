package warmpool

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/arl-infra/arl/operator/internal/testenv"
)

func TestStatusThrottleWritesFirstThenSpacesOut(t *testing.T) {
	now := time.Unix(1000, 0)
	th := newStatusThrottle(time.Second)
	th.now = func() time.Time { return now }

	if w := th.wait("ns/a"); w != 0 {
		t.Fatalf("first write waits %s, want 0", w)
	}
	th.wrote("ns/a")
	now = now.Add(300 * time.Millisecond)
	if w := th.wait("ns/a"); w != 700*time.Millisecond {
		t.Errorf("300ms after a write: wait %s, want 700ms", w)
	}
	if w := th.wait("ns/b"); w != 0 {
		t.Errorf("another pool waits %s, want 0", w)
	}
	now = now.Add(700 * time.Millisecond)
	if w := th.wait("ns/a"); w != 0 {
		t.Errorf("an interval after a write: wait %s, want 0", w)
	}
	th.wrote("ns/a")
	th.forget("ns/a")
	if w := th.wait("ns/a"); w != 0 {
		t.Errorf("a forgotten pool waits %s, want 0", w)
	}
}

// Pods becoming Ready one after another are reported in at most one status
// write per interval (plus the first), and the status still ends exact.
func TestPoolStatusWritesAreSpacedOutAndConverge(t *testing.T) {
	const n = 6
	pool, c := newPool(t, n)
	pods := waitPods(t, c, pool, n)
	testenv.Eventually(t, waitFor, fmt.Sprintf("status with %d idle pods", n), func() (bool, error) {
		st := getPool(t, c, pool).Status
		return st.Replicas == n, fmt.Errorf("%+v", st)
	})
	writes := func() float64 { return testutil.ToFloat64(statusWrites.WithLabelValues(pool.Namespace, pool.Name)) }
	// Start from a quiet pool: no write pending from the pods' creation.
	last := writes()
	testenv.Eventually(t, waitFor, "no status write for 1.5 intervals", func() (bool, error) {
		time.Sleep(defaultStatusWriteInterval * 3 / 2)
		now := writes()
		quiet := now == last
		last = now
		return quiet, fmt.Errorf("%.0f writes", now)
	})
	before := last

	start := time.Now()
	for i := range pods {
		if err := testenv.MarkPodReady(context.Background(), c, &pods[i], fmt.Sprintf("10.244.1.%d", i+2)); err != nil {
			t.Fatal(err)
		}
	}
	testenv.Eventually(t, waitFor, "all pods Ready in the status", func() (bool, error) {
		st := getPool(t, c, pool).Status
		return st.ReadyReplicas == n, fmt.Errorf("%+v", st)
	})
	elapsed := time.Since(start)
	got := writes() - before
	// One write at once, then at most one per interval; one more for a write
	// whose counter moves just after the API shows it.
	bound := float64(elapsed/defaultStatusWriteInterval) + 2
	t.Logf("%d pods Ready: %.0f status writes in %s", n, got, elapsed.Round(time.Millisecond))
	if got < 1 || got > bound {
		t.Errorf("%.0f status writes in %s, want between 1 and %.0f", got, elapsed, bound)
	}
}
