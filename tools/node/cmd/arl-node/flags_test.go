package main

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestParseRunFlags(t *testing.T) {
	o, err := parseRunFlags([]string{
		"--kubeconfig=/k", "--state-dir=/s", "--kubelet-addr=127.0.0.1:10251",
		"--image-binary=ghcr.io/arl-infra/arl-sidecar:v1=/bin/arl-sidecar",
		"--register-with-taint=dev=true:NoSchedule",
	})
	if err != nil {
		t.Fatal(err)
	}
	if o.images["ghcr.io/arl-infra/arl-sidecar"] != "/bin/arl-sidecar" {
		t.Fatalf("images = %v", o.images)
	}
	if host, port := o.kubeletHostPort(); host != "127.0.0.1" || port != 10251 {
		t.Fatalf("kubelet addr = %s:%d", host, port)
	}
	if len(o.taints) != 1 || o.taints[0] != (corev1.Taint{Key: "dev", Value: "true", Effect: corev1.TaintEffectNoSchedule}) {
		t.Fatalf("taints = %v", o.taints)
	}
	if _, err := parseRunFlags([]string{"--kubeconfig=/k"}); err == nil {
		t.Fatal("a missing --state-dir must be an error")
	}
	if _, err := parseRunFlags([]string{"--kubeconfig=/k", "--state-dir=/s", "--register-with-taint=a:Sometimes"}); err == nil {
		t.Fatal("a bad taint effect must be an error")
	}
}
