package warmpool

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

var (
	idlePods = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "arl_warmpool_idle_pods",
		Help: "Idle pods of a WarmPool (Ready or starting).",
	}, []string{"namespace", "pool"})
	readyPods = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "arl_warmpool_ready_pods",
		Help: "Idle, Ready pods of a WarmPool, available for allocation.",
	}, []string{"namespace", "pool"})
	allocatedPods = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "arl_warmpool_allocated_pods",
		Help: "Pods of a WarmPool bound to a Sandbox.",
	}, []string{"namespace", "pool"})
	statusWrites = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "arl_warmpool_status_writes_total",
		Help: "WarmPool status writes (spaced out by the status write interval).",
	}, []string{"namespace", "pool"})
)

func init() {
	metrics.Registry.MustRegister(idlePods, readyPods, allocatedPods, statusWrites)
}

func recordPoolMetrics(pool *arlv1.WarmPool, s podSets) {
	idlePods.WithLabelValues(pool.Namespace, pool.Name).Set(float64(len(s.idleReady) + len(s.idleStarting) + len(s.stale)))
	readyPods.WithLabelValues(pool.Namespace, pool.Name).Set(float64(len(s.idleReady)))
	allocatedPods.WithLabelValues(pool.Namespace, pool.Name).Set(float64(len(s.allocated)))
}

func forgetPoolMetrics(namespace, pool string) {
	for _, g := range []*prometheus.GaugeVec{idlePods, readyPods, allocatedPods} {
		g.DeleteLabelValues(namespace, pool)
	}
	statusWrites.DeleteLabelValues(namespace, pool)
}
