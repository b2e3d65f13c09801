package certs

import (
	"bytes"
	"context"
	"crypto/tls"
	"os"
	"path/filepath"
	"strings"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

func TestEnsureSharesOneCertificateAndPatchesTheCABundle(t *testing.T) {
	env := suite.Env(t)
	ctx := context.Background()
	ns, err := env.Namespace(ctx, "arl-system")
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{SecretNamespace: ns, SecretName: "arl-webhook-cert", ServiceName: "arl-webhook-service", ServiceNamespace: "arl-system"}

	first := opts
	first.CertDir = t.TempDir()
	a, err := Ensure(ctx, env.Client, first)
	if err != nil {
		t.Fatal(err)
	}
	second := opts
	second.CertDir = t.TempDir()
	b, err := Ensure(ctx, env.Client, second)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.CACert, b.CACert) || !bytes.Equal(a.Cert, b.Cert) {
		t.Fatal("a second replica got a different certificate")
	}
	if _, err := tls.LoadX509KeyPair(filepath.Join(second.CertDir, "tls.crt"), filepath.Join(second.CertDir, "tls.key")); err != nil {
		t.Fatalf("written pair unusable: %v", err)
	}

	// A Secret whose certificate names another service is renewed in place.
	other := opts
	other.ServiceName, other.CertDir = "renamed-service", t.TempDir()
	c, err := Ensure(ctx, env.Client, other)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(c.Cert, a.Cert) || !c.Usable(other.DNSNames(), c.expires.AddDate(0, 0, -60)) {
		t.Error("certificate not renewed for the new service name")
	}
	stored := &corev1.Secret{}
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "arl-webhook-cert"}, stored); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(stored.Data["tls.crt"], c.Cert) {
		t.Error("renewed certificate not stored")
	}
	if _, err := os.Stat(filepath.Join(other.CertDir, "tls.key")); err != nil {
		t.Error(err)
	}

	cfg := &admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "arl-validating-webhook-configuration"},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{
			Name:                    "vtask.arl.infra.io",
			AdmissionReviewVersions: []string{"v1"},
			SideEffects:             ptr.To(admissionregistrationv1.SideEffectClassNone),
			ClientConfig: admissionregistrationv1.WebhookClientConfig{Service: &admissionregistrationv1.ServiceReference{
				Namespace: "arl-system", Name: "arl-webhook-service", Path: ptr.To("/validate-arl-infra-io-v1alpha1-task"),
			}},
		}},
	}
	if err := env.Client.Create(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	r := &CABundleReconciler{Client: env.Client, ConfigName: cfg.Name, CABundle: c.CACert}
	if err := r.Checker(nil); err == nil || !strings.Contains(err.Error(), "does not carry the operator's CA") {
		t.Fatalf("readiness before the patch: %v, want not ready", err)
	}
	if _, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(cfg)}); err != nil {
		t.Fatal(err)
	}
	got := &admissionregistrationv1.ValidatingWebhookConfiguration{}
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(cfg), got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Webhooks[0].ClientConfig.CABundle, c.CACert) {
		t.Error("caBundle not patched")
	}
	if err := r.Checker(nil); err != nil {
		t.Errorf("readiness after the patch: %v", err)
	}
}
