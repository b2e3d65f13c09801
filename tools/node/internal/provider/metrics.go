package provider

import (
	"os"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/arl-infra/arl/tools/node/internal/netsetup"
)

// Metrics of the node's pod runtime.
var (
	podStartToReady = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: "arl_node", Name: "pod_start_to_ready_seconds",
		Help:    "Time from CreatePod to the pod's Ready condition turning true.",
		Buckets: prometheus.ExponentialBuckets(0.005, 2, 14),
	})
	podDeleteDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: "arl_node", Name: "pod_delete_seconds",
		Help:    "Time from DeletePod to the pod's processes, network and files being gone.",
		Buckets: prometheus.ExponentialBuckets(0.005, 2, 14),
	})
	containerStarts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "arl_node", Name: "container_starts_total",
		Help: "Container start attempts by result (started, start_error).",
	}, []string{"result"})
	podsRunning = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: "arl_node", Name: "pods",
		Help: "Pods the node currently runs.",
	})
	statusReports = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: "arl_node", Name: "pod_status_reports_total",
		Help: "Pod statuses handed to virtual-kubelet (each one that differs from the last becomes a pods/status write).",
	})
	childCPU = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "arl_node", Name: "child_cpu_seconds_total",
		Help: "CPU time (user+system) of the node's child processes that exited, by kind: pod-init (with the orphans it reaped), container, exec (probes).",
	}, []string{"kind"})
)

// Kinds of child processes for childCPU.
const (
	childPodInit   = "pod-init"
	childContainer = "container"
	childExec      = "exec"
)

// RegisterMetrics adds the node's metrics to reg.
func RegisterMetrics(reg prometheus.Registerer) error {
	ipCPU := prometheus.NewCounterFunc(prometheus.CounterOpts{
		Namespace: "arl_node", Name: "ip_cpu_seconds_total",
		Help: "CPU time (user+system) of the ip processes that set up and remove pod networks.",
	}, func() float64 { return netsetup.ProcessCPU().Seconds() })
	if err := reg.Register(ipCPU); err != nil {
		return err
	}
	for _, c := range []prometheus.Collector{podStartToReady, podDeleteDuration, containerStarts, podsRunning, statusReports, childCPU} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// countChildCPU adds an exited child's CPU time (its own and its reaped
// descendants') to childCPU.
func countChildCPU(kind string, st *os.ProcessState) {
	if st == nil {
		return
	}
	childCPU.WithLabelValues(kind).Add((st.UserTime() + st.SystemTime()).Seconds())
}
