package envtesttest

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/version"
)

func TestServerIsArlKube(t *testing.T) {
	info, err := clientset.Discovery().ServerVersion()
	if err != nil {
		t.Fatalf("server version: %v", err)
	}
	want := version.Info{Major: "1", Minor: "37", GitVersion: "v1.37.2"}
	if info.Major != want.Major || info.Minor != want.Minor || info.GitVersion != want.GitVersion {
		t.Fatalf("server version = %s (%s.%s), want %s", info.GitVersion, info.Major, info.Minor, want.GitVersion)
	}
}

func TestCreateConfigMap(t *testing.T) {
	ctx := t.Context()
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "envtest-proof", Namespace: "default"},
		Data:       map[string]string{"answer": "42"},
	}
	if _, err := clientset.CoreV1().ConfigMaps("default").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create configmap: %v", err)
	}
	got, err := clientset.CoreV1().ConfigMaps("default").Get(ctx, "envtest-proof", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get configmap: %v", err)
	}
	if got.Data["answer"] != "42" {
		t.Fatalf("configmap data = %v, want answer=42", got.Data)
	}
}
