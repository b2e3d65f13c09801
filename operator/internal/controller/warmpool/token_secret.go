package warmpool

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

// tokenBytes is the entropy of a sidecar token (hex-encoded in the Secret).
const tokenBytes = 32

// BuildTokenSecret returns the immutable Secret holding the sidecar token of
// pod podName: named like the pod, key "token", labelled with the pool and
// owned by the pool.
func BuildTokenSecret(pool *arlv1.WarmPool, podName string) (*corev1.Secret, error) {
	raw := make([]byte, tokenBytes)
	if _, err := rand.Read(raw); err != nil {
		return nil, fmt.Errorf("generate sidecar token: %w", err)
	}
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name:      arlv1.SidecarTokenSecretName(podName),
			Namespace: pool.Namespace,
			Labels:    map[string]string{arlv1.LabelPool: pool.Name},
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(pool,
				arlv1.GroupVersion.WithKind("WarmPool"))},
		},
		Immutable: ptr.To(true),
		Type:      corev1.SecretTypeOpaque,
		Data:      map[string][]byte{arlv1.SidecarTokenSecretKey: []byte(hex.EncodeToString(raw))},
	}, nil
}
