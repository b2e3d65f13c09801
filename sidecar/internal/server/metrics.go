package server

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics are the sidecar's Prometheus collectors.
type Metrics struct {
	Registry *prometheus.Registry
	requests *prometheus.HistogramVec
	execs    *prometheus.HistogramVec
}

var latencyBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300}

// NewMetrics registers the collectors in a fresh registry.
func NewMetrics() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "arl_sidecar_request_duration_seconds",
			Help:    "Latency of sidecar RPCs (all protocols, REST included) by procedure and Connect code.",
			Buckets: latencyBuckets,
		}, []string{"procedure", "code"}),
		execs: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "arl_sidecar_exec_duration_seconds",
			Help:    "Run time of user processes, from start to exit, by mode.",
			Buckets: latencyBuckets,
		}, []string{"mode"}),
	}
	m.Registry.MustRegister(m.requests, m.execs,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// ObserveExec records one finished user process.
func (m *Metrics) ObserveExec(d time.Duration, background bool) {
	mode := "foreground"
	if background {
		mode = "background"
	}
	m.execs.WithLabelValues(mode).Observe(d.Seconds())
}
