package main

import (
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestParseRunFlags(t *testing.T) {
	o, err := parseRunFlags([]string{
		"--kubeconfig=/k", "--state-dir=/s", "--kubelet-addr=127.0.0.1:10251",
		"--image-binary=ghcr.io/arl-infra/arl-sidecar:v1=/bin/arl-sidecar",
		"--register-with-taint=dev=true:NoSchedule",
		"--route=10.245.3.0/24", "--route=10.246.0.7/16",
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
	if fmt.Sprint(o.routes) != "[10.245.3.0/24 10.246.0.0/16]" {
		t.Fatalf("routes = %v, want [10.245.3.0/24 10.246.0.0/16] (masked)", o.routes)
	}
	for _, bad := range []string{"10.245.3.0", "fd00::/64", "route"} {
		if _, err := parseRunFlags([]string{"--kubeconfig=/k", "--state-dir=/s", "--route=" + bad}); err == nil || !strings.Contains(err.Error(), "want an IPv4 CIDR") {
			t.Errorf("--route=%s: err = %v, want one asking for an IPv4 CIDR", bad, err)
		}
	}
	if _, err := parseRunFlags([]string{"--kubeconfig=/k"}); err == nil {
		t.Fatal("a missing --state-dir must be an error")
	}
	if _, err := parseRunFlags([]string{"--kubeconfig=/k", "--state-dir=/s", "--register-with-taint=a:Sometimes"}); err == nil {
		t.Fatal("a bad taint effect must be an error")
	}
}
