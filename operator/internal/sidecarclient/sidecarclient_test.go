package sidecarclient

import (
	"context"
	"testing"

	"connectrpc.com/connect"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
	sidecarv1 "github.com/arl-infra/arl/proto/gen/arl/sidecar/v1"
)

func TestTokensAreReadOncePerPodUntilForgotten(t *testing.T) {
	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	gets := 0
	c := fake.NewClientBuilder().WithScheme(scheme).
		WithObjects(&corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "pod-1", Namespace: "ns"},
			Data:       map[string][]byte{arlv1.SidecarTokenSecretKey: []byte("s3cret")},
		}, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "pod-2", Namespace: "ns"}}).
		WithInterceptorFuncs(interceptor.Funcs{Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			gets++
			return c.Get(ctx, key, obj, opts...)
		}}).Build()
	tokens := NewTokens(c)
	ctx := context.Background()

	for range 3 {
		tok, err := tokens.Token(ctx, "ns", "pod-1")
		if err != nil || tok != "s3cret" {
			t.Fatalf("token = %q, %v", tok, err)
		}
	}
	if gets != 1 {
		t.Fatalf("%d Secret reads for 3 lookups, want 1", gets)
	}
	tokens.Forget("ns", "pod-1")
	if _, err := tokens.Token(ctx, "ns", "pod-1"); err != nil || gets != 2 {
		t.Fatalf("after Forget: err %v, reads %d, want a fresh read", err, gets)
	}
	if _, err := tokens.Token(ctx, "ns", "pod-2"); err == nil {
		t.Fatal("a Secret without a token key must be an error")
	}
	if _, err := tokens.Token(ctx, "ns", "no-such-pod"); err == nil {
		t.Fatal("a missing Secret must be an error")
	}
}

func TestWithToken(t *testing.T) {
	req := WithToken(connect.NewRequest(&sidecarv1.HealthRequest{}), "abc")
	if got := req.Header().Get("Authorization"); got != "Bearer abc" {
		t.Fatalf("Authorization = %q", got)
	}
	req = WithToken(connect.NewRequest(&sidecarv1.HealthRequest{}), "")
	if got := req.Header().Get("Authorization"); got != "" {
		t.Fatalf("no token must send no header, got %q", got)
	}
}

func TestPoolCachesOneClientPerAddress(t *testing.T) {
	p := NewPool()
	defer p.Close()
	a := p.Client("10.0.0.1:50051")
	if p.Client("10.0.0.1:50051") != a {
		t.Fatal("the same address must give the cached client")
	}
	if p.Client("10.0.0.2:50051") == a {
		t.Fatal("another address must give another client")
	}
}
