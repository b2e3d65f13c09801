package task

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

var (
	taskDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "arl_task_duration_seconds",
		Help:    "Time from a task's first attempt start to its end, by final state.",
		Buckets: prometheus.ExponentialBuckets(0.001, 2, 20), // 1ms .. ~9m
	}, []string{"state"})

	stepDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "arl_task_step_duration_seconds",
		Help:    "Time of one step's sidecar call, by step type and result (succeeded, failed, error).",
		Buckets: prometheus.ExponentialBuckets(0.0002, 2, 22), // 0.2ms .. ~7m
	}, []string{"type", "result"})

	queueDepth = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "arl_task_queue_depth",
		Help: "Tasks dispatched and waiting for a free worker.",
	})

	runningTasks = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "arl_task_running",
		Help: "Tasks whose steps a worker is running now.",
	})

	statusWriteConflicts = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "arl_task_status_write_conflicts_total",
		Help: "Status writes after a step ran that met a conflict and were re-applied (never re-run).",
	})

	interruptedTasks = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "arl_task_interrupted_total",
		Help: "Tasks failed because an operator stopped mid-step (the step is never re-run).",
	})

	refusedTasks = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "arl_task_refused_total",
		Help: "Tasks failed without running because their sandbox's pod, token Secret or uid was not the sandbox's own, by reason.",
	}, []string{"reason"})
)

func init() {
	metrics.Registry.MustRegister(taskDuration, stepDuration, queueDepth, runningTasks, statusWriteConflicts, interruptedTasks, refusedTasks)
}
