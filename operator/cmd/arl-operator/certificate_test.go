package main

import (
	"context"
	"errors"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/arl-infra/arl/operator/internal/certs"
)

// The API server may stay unreachable for many tries while a cluster starts:
// ensureCertificate keeps trying past the backoff's cap until certificateWait.
func TestEnsureCertificateRetriesPastTheBackoffCap(t *testing.T) {
	saved := certificateBackoff
	certificateBackoff = wait.Backoff{Duration: time.Millisecond, Factor: 2, Steps: saved.Steps, Cap: 4 * time.Millisecond}
	t.Cleanup(func() { certificateBackoff = saved })

	const failures = 20
	calls := 0
	c := fake.NewClientBuilder().WithInterceptorFuncs(interceptor.Funcs{
		Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			calls++
			if calls <= failures {
				return errors.New("connection refused")
			}
			return c.Get(ctx, key, obj, opts...)
		},
	}).Build()
	bundle, err := ensureCertificate(context.Background(), c, certs.Options{
		SecretNamespace: "arl-system", SecretName: "arl-webhook-cert",
		ServiceName: "arl-webhook", ServiceNamespace: "arl-system", CertDir: t.TempDir(),
	})
	if err != nil {
		t.Fatalf("ensureCertificate gave up after %d calls: %v", calls, err)
	}
	if bundle == nil || calls <= failures {
		t.Fatalf("bundle %v after %d calls, want one after more than %d", bundle, calls, failures)
	}
}
