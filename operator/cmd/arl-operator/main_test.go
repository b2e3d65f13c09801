package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
	"github.com/arl-infra/arl/operator/internal/testenv"
)

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestOperatorRunsAgainstAPIServer runs the real wiring (run) against a real
// kube-apiserver, as the operator's ServiceAccount with only the permissions
// of config/rbac: every controller and index registers without conflict,
// leader election works, the webhook server serves the certificate stored
// in its Secret, and a pool and a sandbox go through the controllers.
func TestOperatorRunsAgainstAPIServer(t *testing.T) {
	env, err := testenv.Start(false)
	if err != nil {
		t.Fatalf("envtest: %v", err)
	}
	defer func() {
		if err := env.Stop(); err != nil {
			t.Error(err)
		}
	}()
	ctx := context.Background()
	const ns = "arl-system"
	if err := env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	if err := installRBAC(ctx, env.Client); err != nil {
		t.Fatalf("install config/rbac: %v", err)
	}
	asOperator, err := kubeconfigAs(env.KubeConfig, operatorServiceAccount)
	if err != nil {
		t.Fatal(err)
	}
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kubeconfig, asOperator, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KUBECONFIG", kubeconfig)
	restAs, err := clientcmd.RESTConfigFromKubeConfig(asOperator)
	if err != nil {
		t.Fatal(err)
	}
	operatorClient, err := client.New(restAs, client.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	// Least privilege: the operator reads Secrets one by one, never lists them.
	if err := operatorClient.List(ctx, &corev1.SecretList{}); !apierrors.IsForbidden(err) {
		t.Fatalf("listing Secrets as the operator: %v, want Forbidden", err)
	}
	// Pools live in a user namespace, as in the manual.
	userNS, err := env.Namespace(ctx, "user")
	if err != nil {
		t.Fatal(err)
	}

	probePort, webhookPort := freePort(t), freePort(t)
	cfg := parse(t, "--metrics-bind-address=0",
		fmt.Sprintf("--health-probe-bind-address=127.0.0.1:%d", probePort),
		fmt.Sprintf("--webhook-port=%d", webhookPort),
		"--webhook-cert-dir="+t.TempDir(), "--namespace="+ns, "--leader-elect=true")
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- run(runCtx, cfg) }()
	defer func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("run did not stop")
		}
	}()

	testenv.Eventually(t, 30*time.Second, "/readyz", func() (bool, error) {
		select {
		case err := <-done:
			t.Fatalf("run ended early: %v", err)
		default:
		}
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/readyz", probePort))
		if err != nil {
			return false, err
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, fmt.Errorf("status %d", resp.StatusCode)
	})

	secret := &corev1.Secret{}
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "arl-webhook-cert"}, secret); err != nil {
		t.Fatalf("webhook certificate secret: %v", err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(secret.Data["ca.crt"])
	conn, err := tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", webhookPort),
		&tls.Config{RootCAs: roots, ServerName: "arl-webhook-service." + ns + ".svc"})
	if err != nil {
		t.Fatalf("webhook server does not serve the stored certificate: %v", err)
	}
	conn.Close()

	pool := &arlv1.WarmPool{
		ObjectMeta: metav1.ObjectMeta{Name: "python-pool", Namespace: userNS},
		Spec: arlv1.WarmPoolSpec{Replicas: ptr.To[int32](1), Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "executor", Image: "python:3.9-slim", Command: []string{"sleep", "infinity"}}},
		}}},
	}
	if err := env.Client.Create(ctx, pool); err != nil {
		t.Fatal(err)
	}
	var pods corev1.PodList
	testenv.Eventually(t, 30*time.Second, "a pool pod (leader elected, controller running)", func() (bool, error) {
		err := env.Client.List(ctx, &pods, client.InNamespace(userNS), client.MatchingLabels{arlv1.LabelPool: "python-pool"})
		return err == nil && len(pods.Items) == 1, err
	})
	if img := pods.Items[0].Spec.Containers[1].Image; img != "ghcr.io/arl-infra/arl-sidecar:v0.1.0" {
		t.Errorf("sidecar image %s", img)
	}
	if err := testenv.MarkPodReady(ctx, env.Client, &pods.Items[0], "10.244.0.9"); err != nil {
		t.Fatal(err)
	}
	sb := &arlv1.Sandbox{ObjectMeta: metav1.ObjectMeta{Name: "my-workspace", Namespace: userNS}, Spec: arlv1.SandboxSpec{PoolRef: "python-pool", KeepAlive: true}}
	if err := env.Client.Create(ctx, sb); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 30*time.Second, "sandbox Ready", func() (bool, error) {
		err := env.Client.Get(ctx, client.ObjectKeyFromObject(sb), sb)
		return err == nil && sb.Status.Phase == arlv1.SandboxPhaseReady && sb.Status.PodIP == "10.244.0.9", fmt.Errorf("%+v %v", sb.Status, err)
	})
}
