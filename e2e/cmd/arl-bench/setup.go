package main

import (
	"context"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
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

// interruptible is a context that Ctrl-C (or SIGTERM) ends, so a run can
// stop and clean up its objects.
func interruptible() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}
