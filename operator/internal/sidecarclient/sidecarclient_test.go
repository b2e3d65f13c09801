package sidecarclient

import (
	"context"
	"errors"
	"strings"
	"testing"

	"connectrpc.com/connect"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
	sidecarv1 "github.com/arl-infra/arl/proto/gen/arl/sidecar/v1"
)

// tokenSecret is a token Secret as the WarmPool controller makes it.
func tokenSecret(name, uid, pool string, data map[string][]byte) *corev1.Secret {
	ctrlRef := true
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID(uid),
			Labels: map[string]string{arlv1.LabelPool: pool},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: arlv1.GroupVersion.String(), Kind: "WarmPool",
				Name: pool, UID: "pool-uid", Controller: &ctrlRef}}},
		Data: data,
	}
}

func TestTokensAreReadOncePerPodUntilForgotten(t *testing.T) {
	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	gets := 0
	c := fake.NewClientBuilder().WithScheme(scheme).
		WithObjects(tokenSecret("pod-1", "uid-1", "pool", map[string][]byte{arlv1.SidecarTokenSecretKey: []byte("s3cret")}),
			tokenSecret("pod-2", "uid-2", "pool", nil)).
		WithInterceptorFuncs(interceptor.Funcs{Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			gets++
			err := c.Get(ctx, key, obj, opts...)
			if s, ok := obj.(*corev1.Secret); ok && err == nil {
				s.UID = types.UID("uid-" + key.Name[len("pod-"):]) // the fake client keeps no uid
			}
			return err
		}}).Build()
	tokens := NewTokens(c)
	ctx := context.Background()
	pod1 := SecretRef{Namespace: "ns", PodName: "pod-1", Pool: "pool", UID: "uid-1"}

	for range 3 {
		tok, err := tokens.Token(ctx, pod1)
		if err != nil || tok != "s3cret" {
			t.Fatalf("token = %q, %v", tok, err)
		}
	}
	if gets != 1 {
		t.Fatalf("%d Secret reads for 3 lookups, want 1", gets)
	}
	tokens.Forget(pod1)
	if _, err := tokens.Token(ctx, pod1); err != nil || gets != 2 {
		t.Fatalf("after Forget: err %v, reads %d, want a fresh read", err, gets)
	}
	// A pod naming another secret uid is not answered from memory.
	if _, err := tokens.Token(ctx, SecretRef{Namespace: "ns", PodName: "pod-1", Pool: "pool", UID: "uid-other"}); !errors.Is(err, ErrUntrustedSecret) || gets != 3 {
		t.Fatalf("another uid: err %v, reads %d; want a fresh read refused as untrusted", err, gets)
	}
	if _, err := tokens.Token(ctx, SecretRef{Namespace: "ns", PodName: "pod-2", Pool: "pool", UID: "uid-2"}); err == nil {
		t.Fatal("a Secret without a token key must be an error")
	}
	if _, err := tokens.Token(ctx, SecretRef{Namespace: "ns", PodName: "no-such-pod", Pool: "pool", UID: "x"}); err == nil {
		t.Fatal("a missing Secret must be an error")
	}
}

// TestCheckTokenSecretRefusesSecretsTheOperatorDidNotMake: the token is
// sent only from the Secret the pod was created with, controlled by the
// pod's pool.
func TestCheckTokenSecretRefusesSecretsTheOperatorDidNotMake(t *testing.T) {
	ref := SecretRef{Namespace: "ns", PodName: "p", Pool: "pool", UID: "u1"}
	good := tokenSecret("p", "u1", "pool", nil)
	noOwner := good.DeepCopy()
	noOwner.OwnerReferences = nil
	otherPool := tokenSecret("p", "u1", "other", nil)
	wrongKind := good.DeepCopy()
	wrongKind.OwnerReferences[0].Kind = "Sandbox"
	notController := good.DeepCopy()
	notController.OwnerReferences[0].Controller = nil
	noLabel := good.DeepCopy()
	noLabel.Labels = nil
	for _, tc := range []struct {
		name   string
		ref    SecretRef
		secret *corev1.Secret
		want   string // "" accepts
	}{
		{"the pool's secret with the pod's uid", ref, good, ""},
		{"another uid (made by someone else under the pod's name)", ref, tokenSecret("p", "u2", "pool", nil), "is not the one pod p was created with"},
		{"pod of an older operator (no annotation): owner and label decide", SecretRef{Namespace: "ns", PodName: "p", Pool: "pool"}, good, ""},
		{"pod of an older operator, secret not the pool's", SecretRef{Namespace: "ns", PodName: "p", Pool: "pool"}, noOwner, "not controlled by the pod's warmpool"},
		{"no owner reference", ref, noOwner, "not controlled by the pod's warmpool"},
		{"owned by another pool", ref, otherPool, "not controlled by the pod's warmpool"},
		{"owner of another kind", ref, wrongKind, "not controlled by the pod's warmpool"},
		{"owner reference not a controller", ref, notController, "not controlled by the pod's warmpool"},
		{"no pool label", ref, noLabel, "not controlled by the pod's warmpool"},
		{"pod without a pool label", SecretRef{Namespace: "ns", PodName: "p", UID: "u1"}, good, "not controlled by the pod's warmpool"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckTokenSecret(tc.ref, tc.secret)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && (!errors.Is(err, ErrUntrustedSecret) || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("err = %v, want ErrUntrustedSecret saying %q", err, tc.want)
			}
		})
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
