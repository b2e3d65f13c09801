package sidecarclient

import (
	"context"
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

// Tokens reads sidecar tokens from the per-pod Secrets and remembers them.
//
// It reads through a non-caching reader on purpose: a cached client would
// start a cluster-wide Secret informer (every Secret in memory and RBAC to
// list them all); one GET per pod, then memory, is all a task needs.
type Tokens struct {
	reader client.Reader

	mu     sync.Mutex
	tokens map[types.NamespacedName]string
}

// NewTokens reads Secrets with reader (use the manager's API reader).
func NewTokens(reader client.Reader) *Tokens {
	return &Tokens{reader: reader, tokens: make(map[types.NamespacedName]string)}
}

// Token returns the sidecar token of the pod namespace/podName, read from
// the pod's Secret (arlv1.SidecarTokenSecretName, key
// arlv1.SidecarTokenSecretKey).
func (t *Tokens) Token(ctx context.Context, namespace, podName string) (string, error) {
	key := types.NamespacedName{Namespace: namespace, Name: arlv1.SidecarTokenSecretName(podName)}
	t.mu.Lock()
	token, ok := t.tokens[key]
	t.mu.Unlock()
	if ok {
		return token, nil
	}
	var secret corev1.Secret
	if err := t.reader.Get(ctx, key, &secret); err != nil {
		return "", fmt.Errorf("get sidecar token secret %s: %w", key, err)
	}
	raw, ok := secret.Data[arlv1.SidecarTokenSecretKey]
	if !ok || len(raw) == 0 {
		return "", fmt.Errorf("sidecar token secret %s has no %q key", key, arlv1.SidecarTokenSecretKey)
	}
	token = string(raw)
	t.mu.Lock()
	if len(t.tokens) >= maxCachedClients {
		clear(t.tokens)
	}
	t.tokens[key] = token
	t.mu.Unlock()
	return token, nil
}

// Forget drops a remembered token, for example after the sidecar answered
// Unauthenticated (the pod's Secret was replaced).
func (t *Tokens) Forget(namespace, podName string) {
	t.mu.Lock()
	delete(t.tokens, types.NamespacedName{Namespace: namespace, Name: arlv1.SidecarTokenSecretName(podName)})
	t.mu.Unlock()
}
