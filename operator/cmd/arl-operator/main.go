// Command arl-operator runs the ARL controllers (WarmPool, Sandbox, Task,
// TTL) and the validating webhooks of arl.infra.io/v1alpha1.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
	"github.com/arl-infra/arl/operator/internal/activity"
	"github.com/arl-infra/arl/operator/internal/certs"
	"github.com/arl-infra/arl/operator/internal/controller/sandbox"
	"github.com/arl-infra/arl/operator/internal/controller/task"
	"github.com/arl-infra/arl/operator/internal/controller/ttl"
	"github.com/arl-infra/arl/operator/internal/controller/warmpool"
	"github.com/arl-infra/arl/operator/internal/indexer"
	"github.com/arl-infra/arl/operator/internal/poolpod"
	arlwebhook "github.com/arl-infra/arl/operator/internal/webhook"
)

func main() {
	cfg := bindFlags(flag.CommandLine)
	zapOpts := zap.Options{}
	zapOpts.BindFlags(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))

	if err := run(ctrl.SetupSignalHandler(), cfg); err != nil {
		ctrl.Log.Error(err, "arl-operator stopped")
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg *config) error {
	log := ctrl.Log.WithName("setup")
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(arlv1.AddToScheme(scheme))

	restCfg, err := ctrl.GetConfig()
	if err != nil {
		return fmt.Errorf("load kubeconfig: %w", err)
	}
	restCfg.QPS, restCfg.Burst = float32(cfg.kubeQPS), cfg.kubeBurst

	var caBundle []byte
	if cfg.enableWebhooks {
		direct, err := client.New(restCfg, client.Options{Scheme: scheme})
		if err != nil {
			return fmt.Errorf("build API client: %w", err)
		}
		bundle, err := ensureCertificate(ctx, direct, certs.Options{
			SecretNamespace: cfg.namespace, SecretName: cfg.webhookCertSecret,
			ServiceNamespace: cfg.namespace, ServiceName: cfg.webhookService,
			CertDir: cfg.webhookCertDir,
		})
		if err != nil {
			return fmt.Errorf("webhook certificate: %w", err)
		}
		caBundle = bundle.CACert
	}

	mgr, err := ctrl.NewManager(restCfg, managerOptions(cfg, scheme))
	if err != nil {
		return fmt.Errorf("build manager: %w", err)
	}
	if err := indexer.Setup(ctx, mgr.GetFieldIndexer()); err != nil {
		return err
	}

	// One recorder per controller, all of client-go's events API; nil when
	// --events=false, and every controller nil-checks it.
	recorder := func(name string) events.EventRecorder {
		if !cfg.events {
			return nil
		}
		return mgr.GetEventRecorder(name)
	}
	pods := poolpod.PodConfig{SidecarImage: cfg.sidecarImage, SidecarResources: cfg.sidecarResources, WorkspaceSizeLimit: cfg.workspaceSizeLimit}
	claims := poolpod.NewPodClaims() // shared: a pool never deletes a pod promised to a sandbox
	if err := (&warmpool.WarmPoolReconciler{
		Client: mgr.GetClient(), Scheme: mgr.GetScheme(), Recorder: recorder("arl-warmpool-controller"),
		Pods: pods, Workers: cfg.warmPoolWorkers, Claims: claims,
	}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("set up WarmPool controller: %w", err)
	}
	if err := (&warmpool.NetworkPolicyReconciler{
		Client: mgr.GetClient(), Scheme: mgr.GetScheme(), Recorder: recorder("arl-warmpool-controller"),
		OperatorNamespace: cfg.namespace,
	}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("set up WarmPool NetworkPolicy controller: %w", err)
	}
	if err := (&warmpool.TokenSecretReconciler{Client: mgr.GetClient(), Reader: mgr.GetAPIReader()}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("set up token Secret controller: %w", err)
	}
	taskTimes := activity.NewTaskTimes() // shared: the idle clock counts task times not written yet
	if err := (&sandbox.SandboxReconciler{
		Client: mgr.GetClient(), Recorder: recorder("arl-sandbox-controller"),
		Pods: pods, Workers: cfg.sandboxWorkers, Claims: claims, Live: mgr.GetAPIReader(),
		LastTaskTimeInterval: cfg.lastTaskTimeEvery, TaskTimes: taskTimes,
	}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("set up Sandbox controller: %w", err)
	}
	if err := (&task.TaskReconciler{
		Client: mgr.GetClient(), Live: mgr.GetAPIReader(), Recorder: recorder("arl-task-controller"),
		Options: task.Options{
			MaxConcurrentTasks:      cfg.maxConcurrentTasks,
			MaxConcurrentReconciles: cfg.taskWorkers,
			ClaimDelay:              cfg.taskClaimDelay,
			SucceededEvents:         cfg.taskSucceededEvents,
		},
	}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("set up Task controller: %w", err)
	}
	if err := (&ttl.TaskTTLReconciler{Client: mgr.GetClient()}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("set up Task TTL controller: %w", err)
	}
	if err := (&ttl.SandboxTTLReconciler{Client: mgr.GetClient(), Recorder: recorder("arl-ttl-controller"), TaskTimes: taskTimes}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("set up Sandbox TTL controller: %w", err)
	}

	if cfg.enableWebhooks {
		if err := arlwebhook.Setup(mgr); err != nil {
			return err
		}
		bundle := &certs.CABundleReconciler{
			Client: mgr.GetClient(), ConfigName: cfg.webhookConfigName, CABundle: caBundle,
		}
		if err := bundle.SetupWithManager(mgr); err != nil {
			return fmt.Errorf("set up caBundle controller: %w", err)
		}
		if err := mgr.AddReadyzCheck("webhook-cabundle", bundle.Checker); err != nil {
			return fmt.Errorf("add caBundle readiness check: %w", err)
		}
		if err := mgr.AddReadyzCheck("webhook", mgr.GetWebhookServer().StartedChecker()); err != nil {
			return fmt.Errorf("add webhook readiness check: %w", err)
		}
	}
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return fmt.Errorf("add health check: %w", err)
	}
	if err := mgr.AddReadyzCheck("ping", healthz.Ping); err != nil {
		return fmt.Errorf("add readiness check: %w", err)
	}

	log.Info("starting arl-operator", "version", version, "sidecarImage", cfg.sidecarImage, "leaderElection", cfg.leaderElect, "webhooks", cfg.enableWebhooks)
	return mgr.Start(ctx)
}
