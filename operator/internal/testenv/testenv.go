// Package testenv starts the real control plane (etcd and kube-apiserver,
// the locally built arl-kube binary) for the operator's envtest suites,
// with the CRDs and, optionally, the validating webhooks installed.
package testenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

// ErrNoAssets says how to get the control plane binaries.
var ErrNoAssets = errors.New("KUBEBUILDER_ASSETS is not set or has no kube-apiserver: run `make envtest-assets` " +
	"(it builds bin/arl-kube and a folder of etcd/kube-apiserver links) and export KUBEBUILDER_ASSETS=<that folder>")

// Env is a running control plane.
type Env struct {
	*envtest.Environment
	Config *rest.Config
	Scheme *k8sruntime.Scheme
	Client client.Client
}

// OperatorDir is the operator module's root.
func OperatorDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// RequireAssets reports ErrNoAssets unless KUBEBUILDER_ASSETS names a folder
// with a kube-apiserver.
func RequireAssets() error {
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		return ErrNoAssets
	}
	if _, err := os.Stat(filepath.Join(assets, "kube-apiserver")); err != nil {
		return fmt.Errorf("%w (%v)", ErrNoAssets, err)
	}
	return nil
}

// Start boots etcd and kube-apiserver with the CRDs; with webhooks, the
// generated ValidatingWebhookConfiguration is installed pointing at a local
// webhook server whose options are in Env.WebhookInstallOptions.
func Start(webhooks bool) (*Env, error) {
	if err := RequireAssets(); err != nil {
		return nil, err
	}
	scheme := k8sruntime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(arlv1.AddToScheme(scheme))

	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join(OperatorDir(), "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		Scheme:                scheme,
	}
	if webhooks {
		env.WebhookInstallOptions = envtest.WebhookInstallOptions{
			Paths: []string{filepath.Join(OperatorDir(), "config", "webhook", "manifests.yaml")},
		}
	}
	cfg, err := env.Start()
	if err != nil {
		return nil, fmt.Errorf("start envtest control plane: %w", err)
	}
	cfg.QPS, cfg.Burst = 500, 1000
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		_ = env.Stop()
		return nil, fmt.Errorf("build client: %w", err)
	}
	return &Env{Environment: env, Config: cfg, Scheme: scheme, Client: c}, nil
}

// Namespace creates a namespace with a generated name and returns it.
func (e *Env) Namespace(ctx context.Context, prefix string) (string, error) {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: prefix + "-"}}
	if err := e.Client.Create(ctx, ns); err != nil {
		return "", fmt.Errorf("create namespace: %w", err)
	}
	return ns.Name, nil
}

// MarkPodReady does what a kubelet would: the pod runs, gets an IP and
// passes its readiness probe.
func MarkPodReady(ctx context.Context, c client.Client, pod *corev1.Pod, ip string) error {
	now := metav1.NewTime(time.Now())
	patch := client.MergeFrom(pod.DeepCopy())
	pod.Status.Phase = corev1.PodRunning
	pod.Status.PodIP = ip
	pod.Status.PodIPs = []corev1.PodIP{{IP: ip}}
	pod.Status.StartTime = &now
	pod.Status.Conditions = []corev1.PodCondition{
		{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: now},
		{Type: corev1.ContainersReady, Status: corev1.ConditionTrue, LastTransitionTime: now},
	}
	if err := c.Status().Patch(ctx, pod, patch); err != nil {
		return fmt.Errorf("mark pod %s ready: %w", pod.Name, err)
	}
	return nil
}
