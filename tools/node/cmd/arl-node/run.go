package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"k8s.io/client-go/util/workqueue"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/virtual-kubelet/virtual-kubelet/node"
	"github.com/virtual-kubelet/virtual-kubelet/node/nodeutil"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/tools/record"

	"github.com/arl-infra/arl/tools/node/internal/netsetup"
	"github.com/arl-infra/arl/tools/node/internal/provider"
)

const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

func run(ctx context.Context, log *slog.Logger, o runOptions) error {
	start := time.Now()
	stateDir, err := filepath.Abs(o.stateDir)
	if err != nil {
		return fmt.Errorf("state dir: %w", err)
	}
	if err := os.MkdirAll(stateDir, 0o755); err != nil {
		return fmt.Errorf("create state dir: %w", err)
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find own binary: %w", err)
	}
	podInit := initBinary(self)
	if err := writeNodeRecord(stateDir, nodeRecord{PodCIDR: o.podCIDR, Bridge: o.bridge}); err != nil {
		return err
	}
	if errs := removePods(log, stateDir); len(errs) > 0 {
		return fmt.Errorf("clean up pods of an earlier run: %w", errors.Join(errs...))
	}

	restCfg, err := clientcmd.BuildConfigFromFlags("", o.kubeconfig)
	if err != nil {
		return fmt.Errorf("load kubeconfig %s: %w", o.kubeconfig, err)
	}
	restCfg.QPS, restCfg.Burst = 100, 200
	tuneAPIClient(restCfg)
	client, err := kubernetes.NewForConfig(restCfg)
	if err != nil {
		return fmt.Errorf("create client: %w", err)
	}

	ipam, err := netsetup.NewIPAM(filepath.Join(stateDir, "ipam.json"), o.podCIDR)
	if err != nil {
		return err
	}
	if err := releaseUnknownPods(ctx, client, ipam, o.nodeName); err != nil {
		log.Warn("could not reconcile IPAM with the apiserver; keeping earlier allocations", "err", err)
	}
	gateway := ipam.Gateway()
	var routes []netsetup.Route
	for _, to := range o.routes {
		routes = append(routes, netsetup.Route{To: to, Via: gateway})
	}
	if err := netsetup.EnsureBridge(o.bridge, gateway, ipam.PrefixBits()); err != nil {
		return err
	}

	broadcaster := record.NewBroadcaster()
	broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: client.CoreV1().Events("")})
	defer broadcaster.Shutdown()
	recorder := broadcaster.NewRecorder(scheme.Scheme, corev1.EventSource{Component: "kubelet", Host: o.nodeName})

	nodePath := os.Getenv("PATH")
	if nodePath == "" {
		nodePath = defaultPath
	}
	hidden, err := o.hidden(stateDir)
	if err != nil {
		return err
	}
	var prov *provider.Provider
	newProvider := func(nodeutil.ProviderConfig) (nodeutil.Provider, node.NodeProvider, error) {
		p, err := provider.New(provider.Config{
			NodeName: o.nodeName, StateDir: stateDir, Self: podInit, Bridge: o.bridge, IPAM: ipam, Routes: routes,
			HostIP: gateway.String(), APIServerHost: o.apiserverHost, APIServerPort: o.apiserverPort,
			NodePath: nodePath, Images: o.images, Client: client, Recorder: recorder, Log: log,
			Hidden: hidden,
		})
		prov = p
		return p, nil, err
	}

	mux := http.NewServeMux()
	opts := []nodeutil.NodeOpt{
		nodeutil.WithClient(client),
		withNodeSpec(o),
		nodeutil.AttachProviderRoutes(mux),
		func(cfg *nodeutil.NodeConfig) error {
			cfg.HTTPListenAddr = o.kubeletAddr
			cfg.Handler = mux
			cfg.EventRecorder = withoutVKSuccessEvents{recorder}
			cfg.SkipDownwardAPIResolution = true // the provider resolves env, with the pod's IP
			cfg.NumWorkers = 8
			cfg.InformerResyncPeriod = time.Minute
			return nil
		},
		// A status write conflicts whenever the pod changed since the
		// informer saw it (the operator labels pods as it allocates them);
		// the retry succeeds once the informer catches up, milliseconds
		// later. client-go's default limiter doubles up to 1000 s per item,
		// which left busy pods' readiness unreported for seconds.
		nodeutil.WithPodControllerConfigOverrides(func(cfg *node.PodControllerConfig) error {
			cfg.SyncPodStatusFromProviderRateLimiter = workqueue.NewTypedItemExponentialFailureRateLimiter[any](time.Millisecond, 100*time.Millisecond)
			cfg.SyncPodsFromKubernetesRateLimiter = workqueue.NewTypedItemExponentialFailureRateLimiter[any](time.Millisecond, time.Second)
			return nil
		}),
	}
	if o.kubeletCert != "" {
		tlsOpt, err := kubeletTLS(o)
		if err != nil {
			return err
		}
		opts = append(opts, nodeutil.WithTLSConfig(tlsOpt))
	} else {
		log.Warn("no --kubelet-cert: the kubelet API (logs, exec, port-forward) is off")
	}
	// NewNode builds a default client from $KUBECONFIG before applying
	// WithClient, and warns when it cannot.
	_ = os.Setenv("KUBECONFIG", o.kubeconfig)
	n, err := nodeutil.NewNode(o.nodeName, newProvider, opts...)
	if err != nil {
		return fmt.Errorf("create node: %w", err)
	}

	if o.metricsAddr != "" {
		if err := serveMetrics(ctx, log, o.metricsAddr); err != nil {
			return err
		}
	}
	errc := make(chan error, 1)
	go func() { errc <- n.Run(ctx) }()
	if err := n.WaitReady(ctx, time.Minute); err != nil {
		return fmt.Errorf("node did not become ready: %w", err)
	}
	if err := removeConditionTaints(ctx, client, o.nodeName); err != nil {
		return fmt.Errorf("remove not-ready taint: %w", err)
	}
	log.Info("node ready", "node", o.nodeName, "after", time.Since(start), "kubeletAddr", o.kubeletAddr, "podInit", podInit, "bridge", o.bridge, "gateway", gateway)

	select {
	case err = <-errc:
	case <-ctx.Done():
	}
	log.Info("stopping: ending every pod")
	prov.Shutdown(2 * time.Second)
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// kubeletTLS serves with the given certificate and accepts only clients
// whose certificates the client CA signed (the apiserver's kubelet client).
func kubeletTLS(o runOptions) (func(*tls.Config) error, error) {
	cert, err := tls.LoadX509KeyPair(o.kubeletCert, o.kubeletKey)
	if err != nil {
		return nil, fmt.Errorf("load kubelet certificate: %w", err)
	}
	pool := x509.NewCertPool()
	if o.clientCA != "" {
		pem, err := os.ReadFile(o.clientCA)
		if err != nil {
			return nil, fmt.Errorf("read client CA: %w", err)
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("client CA %s holds no certificate", o.clientCA)
		}
	}
	return func(c *tls.Config) error {
		c.Certificates = []tls.Certificate{cert}
		if o.clientCA != "" {
			c.ClientCAs = pool
			c.ClientAuth = tls.RequireAndVerifyClientCert
		}
		return nil
	}, nil
}

// releaseUnknownPods frees the addresses of pods the apiserver no longer
// assigns to this node; the others keep theirs when they are recreated.
func releaseUnknownPods(ctx context.Context, client kubernetes.Interface, ipam *netsetup.IPAM, nodeName string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	pods, err := client.CoreV1().Pods("").List(ctx, metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("spec.nodeName", nodeName).String()})
	if err != nil {
		return fmt.Errorf("list pods of node %s: %w", nodeName, err)
	}
	known := map[string]bool{}
	for _, p := range pods.Items {
		known[string(p.UID)] = true
	}
	for _, owner := range ipam.Owners() {
		if !known[owner] {
			if err := ipam.Release(owner); err != nil {
				return err
			}
		}
	}
	return nil
}
