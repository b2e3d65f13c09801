package sandbox

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

var (
	allocationSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "arl_sandbox_allocation_seconds",
		Help:    "Time from the controller first seeing a Sandbox to promising it a pod (its status write and the bind follow, in parallel).",
		Buckets: []float64{.001, .002, .005, .01, .02, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
	})
	allocationConflicts = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "arl_sandbox_allocation_conflicts_total",
		Help: "Pod bindings lost to a concurrent writer (retried with another pod).",
	})
	statusWrites = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "arl_sandbox_status_writes_total",
		Help: "Sandbox status writes (a sandbox that goes straight to Ready needs one).",
	})
)

func init() {
	metrics.Registry.MustRegister(allocationSeconds, allocationConflicts, statusWrites)
}
