package provider

import (
	"github.com/prometheus/client_golang/prometheus"
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
)

// RegisterMetrics adds the node's metrics to reg.
func RegisterMetrics(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{podStartToReady, podDeleteDuration, containerStarts, podsRunning} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}
