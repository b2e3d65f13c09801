//go:build realnode

package realnode

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	fw "github.com/arl-infra/arl/e2e/framework"
	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

// stateDir is the cluster's state directory: the kubeconfig's directory.
var stateDir string

func TestMain(m *testing.M) {
	if !fw.RealNode() {
		fmt.Fprintf(os.Stderr, "e2e/realnode: set %s=kubelet and start the cluster with `make local-up NODE=kubelet`\n", fw.NodeEnv)
		os.Exit(1)
	}
	for _, check := range []func() error{fw.RequireCluster, fw.RequireNode} {
		if err := check(); err != nil {
			fmt.Fprintln(os.Stderr, "e2e/realnode:", err)
			os.Exit(1)
		}
	}
	stateDir = filepath.Dir(os.Getenv("KUBECONFIG"))
	if _, err := os.Stat(containerdSocket()); err != nil {
		fmt.Fprintf(os.Stderr, "e2e/realnode: no containerd socket at %s (KUBECONFIG must be <state>/kubeconfig of `arl-local up --node=kubelet`): %v\n", containerdSocket(), err)
		os.Exit(1)
	}
	code := m.Run()
	// The tests share one pool and sandbox (sandboxPod); leave none behind.
	for _, obj := range []client.Object{fw.Named[arlv1.Sandbox]("real-sandbox"), fw.Named[arlv1.WarmPool]("real-pool")} {
		if err := client.IgnoreNotFound(fw.Client().Delete(context.Background(), obj)); err != nil {
			fmt.Fprintf(os.Stderr, "e2e/realnode: delete %T %s: %v\n", obj, obj.GetName(), err)
		}
	}
	os.Exit(code)
}

func containerdSocket() string {
	return filepath.Join(stateDir, "realnode", "containerd", "containerd.sock")
}
