package sidecarclient

import (
	"context"
	"errors"
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

// ErrUntrustedSecret wraps every refusal to use a Secret's token: the
// Secret named like the pod is not the one the operator made for it.
var ErrUntrustedSecret = errors.New("untrusted sidecar token secret")

// SecretRef names the token Secret of one pool pod and what it must be:
// named like the pod, with the uid the pod was created with
// (arlv1.AnnotationTokenSecretUID), controlled by the pod's WarmPool.
type SecretRef struct {
	Namespace string
	PodName   string
	// Pool is the pod's WarmPool (its arlv1.LabelPool label).
	Pool string
	// UID is the pod's arlv1.AnnotationTokenSecretUID annotation.
	UID types.UID
}

// SecretRefOf is the token Secret a pool pod was created with.
func SecretRefOf(pod *corev1.Pod) SecretRef {
	return SecretRef{
		Namespace: pod.Namespace,
		PodName:   pod.Name,
		Pool:      pod.Labels[arlv1.LabelPool],
		UID:       types.UID(pod.Annotations[arlv1.AnnotationTokenSecretUID]),
	}
}

func (ref SecretRef) key() types.NamespacedName {
	return types.NamespacedName{Namespace: ref.Namespace, Name: arlv1.SidecarTokenSecretName(ref.PodName)}
}

// CheckTokenSecret reports, wrapping ErrUntrustedSecret, why secret is not
// the token Secret ref names: another uid than the pod was created with
// (pods an older operator made carry none), or not controlled by the pod's
// WarmPool (controller reference and pool label).
func CheckTokenSecret(ref SecretRef, secret *corev1.Secret) error {
	key := ref.key()
	// A pod made before the annotation existed names no uid; the owner and
	// label checks below still hold for it.
	if ref.UID != "" && secret.UID != ref.UID {
		return fmt.Errorf("%w: secret %s (uid %s) is not the one pod %s was created with (uid %s)",
			ErrUntrustedSecret, key, secret.UID, ref.PodName, ref.UID)
	}
	owner := metav1.GetControllerOf(secret)
	if ref.Pool == "" || owner == nil || owner.APIVersion != arlv1.GroupVersion.String() || owner.Kind != "WarmPool" ||
		owner.Name != ref.Pool || secret.Labels[arlv1.LabelPool] != ref.Pool {
		return fmt.Errorf("%w: secret %s is not controlled by the pod's warmpool %q", ErrUntrustedSecret, key, ref.Pool)
	}
	return nil
}

// Tokens reads sidecar tokens from the per-pod Secrets and remembers them.
//
// It reads through a non-caching reader on purpose: a cached client would
// start a cluster-wide Secret informer (every Secret in memory and RBAC to
// list them all); one GET per pod, then memory, is all a task needs.
type Tokens struct {
	reader client.Reader

	mu     sync.Mutex
	tokens map[types.NamespacedName]cachedToken
}

type cachedToken struct {
	uid   types.UID
	token string
}

// NewTokens reads Secrets with reader (use the manager's API reader).
func NewTokens(reader client.Reader) *Tokens {
	return &Tokens{reader: reader, tokens: make(map[types.NamespacedName]cachedToken)}
}

// Token returns the sidecar token of the pod ref names, read from the
// pod's Secret (arlv1.SidecarTokenSecretName, key
// arlv1.SidecarTokenSecretKey) after CheckTokenSecret accepted it.
func (t *Tokens) Token(ctx context.Context, ref SecretRef) (string, error) {
	key := ref.key()
	t.mu.Lock()
	cached, ok := t.tokens[key]
	t.mu.Unlock()
	if ok && (ref.UID == "" || cached.uid == ref.UID) {
		return cached.token, nil
	}
	var secret corev1.Secret
	if err := t.reader.Get(ctx, key, &secret); err != nil {
		return "", fmt.Errorf("get sidecar token secret %s: %w", key, err)
	}
	if err := CheckTokenSecret(ref, &secret); err != nil {
		return "", err
	}
	raw, ok := secret.Data[arlv1.SidecarTokenSecretKey]
	if !ok || len(raw) == 0 {
		return "", fmt.Errorf("sidecar token secret %s has no %q key", key, arlv1.SidecarTokenSecretKey)
	}
	token := string(raw)
	t.mu.Lock()
	if len(t.tokens) >= maxCachedClients {
		clear(t.tokens)
	}
	t.tokens[key] = cachedToken{uid: secret.UID, token: token}
	t.mu.Unlock()
	return token, nil
}

// Forget drops a remembered token, for example after the sidecar answered
// Unauthenticated.
func (t *Tokens) Forget(ref SecretRef) {
	t.mu.Lock()
	delete(t.tokens, ref.key())
	t.mu.Unlock()
}
