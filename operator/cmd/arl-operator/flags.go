package main

import (
	"flag"
	"os"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/arl-infra/arl/operator/internal/controller/sandbox"
	"github.com/arl-infra/arl/operator/internal/controller/task"
)

// config is everything the flags set.
type config struct {
	metricsAddr      string
	probeAddr        string
	pprofAddr        string
	leaderElect      bool
	leaderElectionNS string
	leaseDuration    time.Duration

	enableWebhooks    bool
	webhookPort       int
	webhookCertDir    string
	webhookCertSecret string
	webhookService    string
	webhookConfigName string
	namespace         string

	sidecarImage     string
	sidecarResources corev1.ResourceRequirements
	// workspaceSizeLimit is the sizeLimit of pool pods' workspace emptyDirs
	// that have none; zero: unlimited.
	workspaceSizeLimit resource.Quantity

	maxConcurrentTasks  int
	taskWorkers         int
	taskClaimDelay      time.Duration
	warmPoolWorkers     int
	sandboxWorkers      int
	lastTaskTimeEvery   time.Duration
	events              bool
	taskSucceededEvents bool

	kubeQPS   float64
	kubeBurst int
}

// Defaults that other components and the manifests rely on.
const (
	defaultSidecarImage = "ghcr.io/arl-infra/arl-sidecar:v0.1.0"
	defaultNamespace    = "arl-system"
	// defaultWorkspaceSizeLimit bounds a sandbox's workspace when its pool
	// says nothing: past it the kubelet evicts the pod.
	defaultWorkspaceSizeLimit = "10Gi"
)

func bindFlags(fs *flag.FlagSet) *config {
	c := &config{}
	fs.StringVar(&c.metricsAddr, "metrics-bind-address", ":8080", "address of the Prometheus metrics endpoint; \"0\" turns it off")
	fs.StringVar(&c.probeAddr, "health-probe-bind-address", ":8081", "address of /healthz and /readyz")
	fs.StringVar(&c.pprofAddr, "pprof-bind-address", "", "address of Go's /debug/pprof endpoints (off when empty)")
	fs.BoolVar(&c.leaderElect, "leader-elect", false, "elect one active replica (the Deployment turns it on)")
	fs.StringVar(&c.leaderElectionNS, "leader-election-namespace", "", "namespace of the leader lease (default: --namespace)")
	fs.DurationVar(&c.leaseDuration, "leader-lease-duration", 15*time.Second, "leader lease duration")

	fs.BoolVar(&c.enableWebhooks, "enable-webhooks", true, "serve the validating webhooks and manage their certificate")
	fs.IntVar(&c.webhookPort, "webhook-port", 9443, "port of the webhook server")
	fs.StringVar(&c.webhookCertDir, "webhook-cert-dir", os.TempDir()+"/arl-webhook-certs", "directory the serving certificate is written to")
	fs.StringVar(&c.webhookCertSecret, "webhook-cert-secret", "arl-webhook-cert", "Secret (in --namespace) holding the webhook CA and serving certificate")
	fs.StringVar(&c.webhookService, "webhook-service", "arl-webhook-service", "Service (in --namespace) the API server calls the webhooks through")
	fs.StringVar(&c.webhookConfigName, "webhook-config", "arl-validating-webhook-configuration", "ValidatingWebhookConfiguration whose caBundle the operator keeps")
	fs.StringVar(&c.namespace, "namespace", envOr("POD_NAMESPACE", defaultNamespace), "namespace the operator runs in")

	fs.StringVar(&c.sidecarImage, "sidecar-image", defaultSidecarImage, "image of the sidecar injected into pool pods")
	fs.Var(resourcesFlag{&c.sidecarResources}, "sidecar-resources", "requests and limits of the injected containers (sidecar, arl-install) of pool pods, as JSON (empty: none); a pool's spec.injected.resources replaces them")
	c.workspaceSizeLimit = resource.MustParse(defaultWorkspaceSizeLimit)
	fs.Var(quantityFlag{&c.workspaceSizeLimit}, "workspace-size-limit", "sizeLimit given to a pool pod's workspace emptyDir that has none (\"0\": unlimited)")

	fs.IntVar(&c.maxConcurrentTasks, "max-concurrent-tasks", 64, "tasks whose steps run at the same time")
	fs.IntVar(&c.taskWorkers, "task-workers", 4, "reconcile workers of the Task controller")
	fs.DurationVar(&c.taskClaimDelay, "task-claim-delay", task.DefaultClaimDelay, "how long a task attempt runs before its Running state is written (a quicker one is recorded by one write)")
	fs.IntVar(&c.warmPoolWorkers, "warmpool-workers", 2, "reconcile workers of the WarmPool controller")
	fs.IntVar(&c.sandboxWorkers, "sandbox-workers", 8, "reconcile workers of the Sandbox controller")
	fs.DurationVar(&c.lastTaskTimeEvery, "last-task-time-interval", sandbox.DefaultLastTaskTimeInterval, "write a keep-alive sandbox's status.lastTaskTime at most once per this interval (capped at a tenth of its idleTimeoutSeconds; idle timeouts stay exact); 0 writes each newer time at once")
	fs.BoolVar(&c.events, "events", true, "record Kubernetes events")
	fs.BoolVar(&c.taskSucceededEvents, "task-succeeded-events", false, "also record a TaskSucceeded event per succeeded task (one more API write per task; failures are always recorded)")

	fs.Float64Var(&c.kubeQPS, "kube-api-qps", 200, "client-side rate limit to the API server (queries per second)")
	fs.IntVar(&c.kubeBurst, "kube-api-burst", 400, "client-side burst to the API server")
	return c
}

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}
