package testenv

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/arl-infra/arl/operator/internal/indexer"
)

// Suite is one control plane and one running manager shared by the tests of
// a package, started by the first test that needs it.
type Suite struct {
	// Webhooks installs the webhook configuration and serves it.
	Webhooks bool
	// Setup registers the package's reconcilers or webhooks on the manager.
	Setup func(mgr ctrl.Manager) error

	once   sync.Once
	err    error
	env    *Env
	cancel context.CancelFunc
	done   chan error
}

// Env returns the running environment, starting it on first use; a missing
// control plane fails the test with how to get it.
func (s *Suite) Env(t testing.TB) *Env {
	t.Helper()
	s.once.Do(func() { s.err = s.start() })
	if s.err != nil {
		t.Fatalf("envtest: %v", s.err)
	}
	return s.env
}

func (s *Suite) start() error {
	ctrl.SetLogger(zap.New(zap.UseDevMode(true), zap.Level(zapLevel())))
	env, err := Start(s.Webhooks)
	if err != nil {
		return err
	}
	opts := ctrl.Options{
		Scheme:     env.Scheme,
		Metrics:    metricsserver.Options{BindAddress: "0"},
		Cache:      cache.Options{DefaultTransform: cache.TransformStripManagedFields()},
		Controller: ctrlConfig(),
	}
	if s.Webhooks {
		w := env.WebhookInstallOptions
		opts.WebhookServer = webhook.NewServer(webhook.Options{Host: w.LocalServingHost, Port: w.LocalServingPort, CertDir: w.LocalServingCertDir})
	}
	mgr, err := ctrl.NewManager(env.Config, opts)
	if err != nil {
		_ = env.Stop()
		return fmt.Errorf("build manager: %w", err)
	}
	if err := indexer.Setup(context.Background(), mgr.GetFieldIndexer()); err != nil {
		_ = env.Stop()
		return err
	}
	if s.Setup != nil {
		if err := s.Setup(mgr); err != nil {
			_ = env.Stop()
			return fmt.Errorf("set up: %w", err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel, s.done = cancel, make(chan error, 1)
	go func() { s.done <- mgr.Start(ctx) }()
	if !mgr.GetCache().WaitForCacheSync(ctx) {
		cancel()
		_ = env.Stop()
		return fmt.Errorf("manager cache did not sync")
	}
	s.env = env
	return nil
}

// Stop ends the manager and the control plane if they were started.
func (s *Suite) Stop() error {
	if s.env == nil {
		return nil
	}
	s.cancel()
	mgrErr := <-s.done
	if err := s.env.Stop(); err != nil {
		return fmt.Errorf("stop envtest: %w", err)
	}
	return mgrErr
}

// Client is a direct (uncached) client to the API server.
func (s *Suite) Client(t testing.TB) client.Client { return s.Env(t).Client }

// Scheme is the scheme with the core and ARL kinds.
func (s *Suite) Scheme(t testing.TB) *runtime.Scheme { return s.Env(t).Scheme }
