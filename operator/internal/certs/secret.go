package certs

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Secret keys.
const (
	keyCACert = "ca.crt"
	keyCAKey  = "ca.key"
	keyCert   = corev1.TLSCertKey
	keyKey    = corev1.TLSPrivateKeyKey
)

// Options name the Secret and the service the certificate is for.
type Options struct {
	// SecretNamespace and SecretName locate the Secret shared by replicas.
	SecretNamespace, SecretName string
	// ServiceName and ServiceNamespace give the DNS names of the certificate.
	ServiceName, ServiceNamespace string
	// CertDir receives tls.crt and tls.key for the webhook server.
	CertDir string
}

// DNSNames are the names the webhook Service is reached by.
func (o Options) DNSNames() []string {
	svc := o.ServiceName + "." + o.ServiceNamespace
	return []string{svc + ".svc", svc + ".svc.cluster.local", svc}
}

// Ensure returns a usable bundle from the Secret, creating or renewing it
// (the first replica to write wins; the others read its result), and writes
// the serving pair into CertDir. c must read the API server directly.
func Ensure(ctx context.Context, c client.Client, o Options) (*Bundle, error) {
	names := o.DNSNames()
	for attempt := 0; attempt < 5; attempt++ {
		secret := &corev1.Secret{}
		err := c.Get(ctx, client.ObjectKey{Namespace: o.SecretNamespace, Name: o.SecretName}, secret)
		switch {
		case err == nil:
			b := fromSecret(secret)
			if b.Usable(names, time.Now()) {
				return b, writeFiles(o.CertDir, b)
			}
			fresh, err := Generate(names, time.Now())
			if err != nil {
				return nil, err
			}
			secret.Data = toData(fresh)
			if err := c.Update(ctx, secret); err != nil {
				if apierrors.IsConflict(err) {
					continue
				}
				return nil, fmt.Errorf("renew webhook certificate secret %s/%s: %w", o.SecretNamespace, o.SecretName, err)
			}
			return fresh, writeFiles(o.CertDir, fresh)
		case apierrors.IsNotFound(err):
			fresh, err := Generate(names, time.Now())
			if err != nil {
				return nil, err
			}
			secret = &corev1.Secret{
				ObjectMeta: metav1.ObjectMeta{Namespace: o.SecretNamespace, Name: o.SecretName,
					Labels: map[string]string{"app.kubernetes.io/name": "arl-operator"}},
				Type: corev1.SecretTypeTLS,
				Data: toData(fresh),
			}
			if err := c.Create(ctx, secret); err != nil {
				if apierrors.IsAlreadyExists(err) {
					continue
				}
				return nil, fmt.Errorf("create webhook certificate secret %s/%s: %w", o.SecretNamespace, o.SecretName, err)
			}
			return fresh, writeFiles(o.CertDir, fresh)
		default:
			return nil, fmt.Errorf("get webhook certificate secret %s/%s: %w", o.SecretNamespace, o.SecretName, err)
		}
	}
	return nil, fmt.Errorf("webhook certificate secret %s/%s kept changing under us", o.SecretNamespace, o.SecretName)
}

func fromSecret(s *corev1.Secret) *Bundle {
	return &Bundle{CACert: s.Data[keyCACert], CAKey: s.Data[keyCAKey], Cert: s.Data[keyCert], Key: s.Data[keyKey]}
}

func toData(b *Bundle) map[string][]byte {
	return map[string][]byte{keyCACert: b.CACert, keyCAKey: b.CAKey, keyCert: b.Cert, keyKey: b.Key}
}

func writeFiles(dir string, b *Bundle) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create certificate directory %s: %w", dir, err)
	}
	for name, data := range map[string][]byte{keyCert: b.Cert, keyKey: b.Key} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	return nil
}
