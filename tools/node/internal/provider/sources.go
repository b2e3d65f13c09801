package provider

import (
	"context"
	"errors"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// clientSources reads ConfigMaps and Secrets from the apiserver's watch cache
// (resourceVersion "0": no etcd read), and straight from etcd when the cache
// does not have the object yet, so an object created just before the pod is
// always seen. Like a kubelet's watch-based object manager, a pod may see
// an object as of a few milliseconds ago.
type clientSources struct{ client kubernetes.Interface }

var errNoClient = errors.New("no Kubernetes client configured")

var fromWatchCache = metav1.GetOptions{ResourceVersion: "0"}

func (s clientSources) ConfigMap(ctx context.Context, namespace, name string) (*corev1.ConfigMap, error) {
	if s.client == nil {
		return nil, errNoClient
	}
	cms := s.client.CoreV1().ConfigMaps(namespace)
	cm, err := cms.Get(ctx, name, fromWatchCache)
	if apierrors.IsNotFound(err) {
		return cms.Get(ctx, name, metav1.GetOptions{})
	}
	return cm, err
}

func (s clientSources) Secret(ctx context.Context, namespace, name string) (*corev1.Secret, error) {
	if s.client == nil {
		return nil, errNoClient
	}
	secrets := s.client.CoreV1().Secrets(namespace)
	secret, err := secrets.Get(ctx, name, fromWatchCache)
	if apierrors.IsNotFound(err) {
		return secrets.Get(ctx, name, metav1.GetOptions{})
	}
	return secret, err
}
