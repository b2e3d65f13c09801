package provider

import (
	"context"
	"fmt"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

type mapSources struct {
	cms     map[string]*corev1.ConfigMap
	secrets map[string]*corev1.Secret
}

func (m mapSources) ConfigMap(_ context.Context, _, name string) (*corev1.ConfigMap, error) {
	if cm, ok := m.cms[name]; ok {
		return cm, nil
	}
	return nil, fmt.Errorf("configmap %s not found", name)
}

func (m mapSources) Secret(_ context.Context, _, name string) (*corev1.Secret, error) {
	if s, ok := m.secrets[name]; ok {
		return s, nil
	}
	return nil, fmt.Errorf("secret %s not found", name)
}

func TestContainerEnv(t *testing.T) {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p1", Namespace: "ns1", UID: "u-1", Labels: map[string]string{"app": "x"}},
		Spec:       corev1.PodSpec{NodeName: "arl-node", ServiceAccountName: "default"},
	}
	src := mapSources{
		cms:     map[string]*corev1.ConfigMap{"cfg": {Data: map[string]string{"A": "from-cm", "B": "b"}}},
		secrets: map[string]*corev1.Secret{"p1": {Data: map[string][]byte{"token": []byte("s3cret")}}},
	}
	field := func(p string) *corev1.EnvVarSource {
		return &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: p}}
	}
	c := &corev1.Container{
		EnvFrom: []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}}}},
		Env: []corev1.EnvVar{
			{Name: "A", Value: "override"},
			{Name: "POD_NAME", ValueFrom: field("metadata.name")},
			{Name: "POD_NS", ValueFrom: field("metadata.namespace")},
			{Name: "POD_UID", ValueFrom: field("metadata.uid")},
			{Name: "POD_IP", ValueFrom: field("status.podIP")},
			{Name: "NODE", ValueFrom: field("spec.nodeName")},
			{Name: "APP", ValueFrom: field("metadata.labels['app']")},
			{Name: "TOKEN", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "p1"}, Key: "token"}}},
			{Name: "REF", Value: "$(POD_NAME)-$(B)-$(NOPE)-$$(POD_NAME)"},
		},
	}
	env, err := containerEnv(context.Background(), src, pod, c, "10.244.0.7", envDefaults{APIServerHost: "10.244.0.1", APIServerPort: 6443, NodePath: "/usr/bin:/bin", HostIP: "10.244.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"A=override", "B=b", "POD_NAME=p1", "POD_NS=ns1", "POD_UID=u-1", "POD_IP=10.244.0.7", "NODE=arl-node", "APP=x",
		"TOKEN=s3cret", "REF=p1-b-$(NOPE)-$(POD_NAME)", "KUBERNETES_SERVICE_HOST=10.244.0.1", "KUBERNETES_SERVICE_PORT=6443",
		"KUBERNETES_SERVICE_PORT_HTTPS=6443", "HOME=/root", "PATH=/usr/bin:/bin", "HOSTNAME=p1",
	} {
		if !slices.Contains(env, want) {
			t.Errorf("env misses %q; got %q", want, env)
		}
	}

	missing := &corev1.Container{Env: []corev1.EnvVar{{Name: "T", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "gone"}, Key: "k"}}}}}
	if _, err := containerEnv(context.Background(), src, pod, missing, "", envDefaults{}); err == nil {
		t.Fatal("a missing mandatory secret must be an error")
	}
	optional := true
	missing.Env[0].ValueFrom.SecretKeyRef.Optional = &optional
	if _, err := containerEnv(context.Background(), src, pod, missing, "", envDefaults{}); err != nil {
		t.Fatalf("a missing optional secret is fine: %v", err)
	}
}
