package provider

import (
	"context"
	"errors"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// clientSources reads ConfigMaps and Secrets straight from the apiserver, so
// an object created just before the pod is always seen.
type clientSources struct{ client kubernetes.Interface }

var errNoClient = errors.New("no Kubernetes client configured")

func (s clientSources) ConfigMap(ctx context.Context, namespace, name string) (*corev1.ConfigMap, error) {
	if s.client == nil {
		return nil, errNoClient
	}
	return s.client.CoreV1().ConfigMaps(namespace).Get(ctx, name, metav1.GetOptions{})
}

func (s clientSources) Secret(ctx context.Context, namespace, name string) (*corev1.Secret, error) {
	if s.client == nil {
		return nil, errNoClient
	}
	return s.client.CoreV1().Secrets(namespace).Get(ctx, name, metav1.GetOptions{})
}
