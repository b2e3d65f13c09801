package main

import (
	"context"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

// restConfig loads $KUBECONFIG (default .state/local/kubeconfig) with a
// client rate limit high enough not to be what a run measures.
func restConfig() (*rest.Config, string) {
	kubeconfig := os.Getenv("KUBECONFIG")
	if kubeconfig == "" {
		kubeconfig = filepath.Join(".state", "local", "kubeconfig")
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		fail("load kubeconfig %s: %v (start the local cluster with `make local-up`)", kubeconfig, err)
	}
	cfg.QPS, cfg.Burst = 5000, 10000
	return cfg, kubeconfig
}

// newClient is a typed client (with watches) of the core kinds and ARL's,
// at cfg's rate limit.
func newClient(cfg *rest.Config) client.WithWatch {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		fail("core kinds: %v", err)
	}
	if err := arlv1.AddToScheme(scheme); err != nil {
		fail("ARL kinds: %v", err)
	}
	c, err := client.NewWithWatch(cfg, client.Options{Scheme: scheme})
	if err != nil {
		fail("client for %s: %v", cfg.Host, err)
	}
	return c
}

// interruptible is a context that Ctrl-C (or SIGTERM) ends, so a run can
// stop and clean up its objects.
func interruptible() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}
