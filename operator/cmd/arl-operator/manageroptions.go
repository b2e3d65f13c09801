package main

import (
	"k8s.io/apimachinery/pkg/runtime"
	ctrl "sigs.k8s.io/controller-runtime"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"
)

// managerOptions builds the manager's options from the flags.
func managerOptions(c *config, scheme *runtime.Scheme) ctrl.Options {
	lease := c.leaseDuration
	renew := lease * 2 / 3
	retry := lease / 5
	leaseNS := c.leaderElectionNS
	if leaseNS == "" {
		leaseNS = c.namespace
	}
	opts := ctrl.Options{
		Scheme:                        scheme,
		Cache:                         cacheOptions(c),
		Metrics:                       metricsserver.Options{BindAddress: c.metricsAddr},
		HealthProbeBindAddress:        c.probeAddr,
		PprofBindAddress:              c.pprofAddr,
		LeaderElection:                c.leaderElect,
		LeaderElectionID:              "arl-operator.arl.infra.io",
		LeaderElectionNamespace:       leaseNS,
		LeaderElectionReleaseOnCancel: true,
		LeaseDuration:                 &lease,
		RenewDeadline:                 &renew,
		RetryPeriod:                   &retry,
	}
	if c.enableWebhooks {
		opts.WebhookServer = webhook.NewServer(webhook.Options{Port: c.webhookPort, CertDir: c.webhookCertDir})
	}
	return opts
}
