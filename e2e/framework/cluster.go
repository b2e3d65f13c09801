package framework

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

// RequireCluster fails (never skips) when the local cluster with ARL is not
// reachable, saying how to start it; it makes Client.
func RequireCluster() error {
	if _, err := os.Stat(Kubectl()); err != nil {
		return fmt.Errorf("kubectl not found at %s: run `make local-up` (builds the local cluster) first", Kubectl())
	}
	if os.Getenv("KUBECONFIG") == "" {
		os.Setenv("KUBECONFIG", filepath.Join(RepoRoot(), ".state", "local", "kubeconfig"))
	}
	c, err := newClient()
	if err != nil {
		return fmt.Errorf("%w: run `make local-up` (starts the local cluster and installs the operator)", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.List(ctx, &arlv1.TaskList{}, client.InNamespace(Namespace), client.Limit(1)); err != nil {
		return fmt.Errorf("the ARL CRDs are not installed in the cluster at KUBECONFIG=%s (%w): run `make local-up` (starts the local cluster and installs the operator)", os.Getenv("KUBECONFIG"), err)
	}
	kube = c
	return nil
}

// NodeEnv selects the node the suite expects: ARL_E2E_NODE=kubelet runs it
// against the real node (kubelet + containerd + runc, `make local-up
// NODE=kubelet`); unset or "process", the process node.
const NodeEnv = "ARL_E2E_NODE"

// RealNode is true when the suite runs against the kubelet node.
func RealNode() bool { return os.Getenv(NodeEnv) == "kubelet" }

// NotOnRealNode skips t on the kubelet node, with the reason. It is the
// only way a manual test is left out there, and every call is listed in
// docs/real-node.md ("The manual's suite on the real node").
func NotOnRealNode(t testing.TB, reason string) {
	t.Helper()
	if RealNode() {
		t.Skipf("not on the real node (docs/real-node.md): %s", reason)
	}
}

// RequireNode fails unless the cluster's nodes are the ones NodeEnv names:
// arl-kubelet Ready for kubelet, arl-node otherwise.
func RequireNode() error {
	want := "arl-node"
	if RealNode() {
		want = "arl-kubelet"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	node := &corev1.Node{}
	err := Client().Get(ctx, client.ObjectKey{Name: want}, node)
	ready := corev1.ConditionUnknown
	for _, c := range node.Status.Conditions {
		if c.Type == corev1.NodeReady {
			ready = c.Status
		}
	}
	if err != nil || ready != corev1.ConditionTrue {
		return fmt.Errorf("%s=%q wants node %s Ready in the cluster at KUBECONFIG=%s (Ready=%s, %v): start it with `make local-up NODE=%s`",
			NodeEnv, os.Getenv(NodeEnv), want, os.Getenv("KUBECONFIG"), ready, err, map[bool]string{true: "kubelet", false: "process"}[RealNode()])
	}
	return nil
}
