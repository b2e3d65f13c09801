package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/arl-infra/arl/tools/internal/build"
	"github.com/arl-infra/arl/tools/internal/proc"
)

// upRealNode starts the kubelet node once the control plane serves:
// containerd (with the node's own images imported), the kubelet, which
// registers arl-kubelet and waits for it to be Ready, and kube-proxy.
func upRealNode(ctx context.Context, l Layout, r *reporter, timeout time.Duration, c *client) error {
	b := &build.Builder{Repo: l.Repo, BinDir: l.Bin, CacheDir: l.Cache, Progress: r.Printf}
	if err := ensureAll(ctx, b, r, build.RealNode); err != nil {
		return err
	}
	if err := checkRealNodeHost(); err != nil {
		return err
	}
	if err := ensureRealPKI(l); err != nil {
		return fmt.Errorf("kubelet node certificates: %w", err)
	}
	if err := writeRealConfigs(l); err != nil {
		return err
	}
	if err := prepareHost(l); err != nil {
		return err
	}
	comps := RealComponents(l)
	containerd, kubelet, kubeProxy := comps[0], comps[1], comps[2]
	if err := start(l, r, containerd); err != nil {
		return err
	}
	if err := wait(ctx, l, r, timeout, containerd, func(ctx context.Context) error {
		_, err := ctr(ctx, l, "version")
		return err
	}); err != nil {
		return err
	}
	if err := importLocalImages(ctx, l, r); err != nil {
		return err
	}
	if out, err := kubectlStdin(ctx, l, kubernetesEndpointSlice(l), "apply", "-f", "-"); err != nil {
		return fmt.Errorf("kubernetes Service endpoints: %w: %s", err, out)
	}
	if err := start(l, r, kubelet); err != nil {
		return err
	}
	if err := wait(ctx, l, r, timeout, kubelet, c.nodeReadyNamed(KubeletNodeName)); err != nil {
		return fmt.Errorf("the kubelet did not get node %s Ready (its log: %s): %w", KubeletNodeName, l.File("kubelet.log"), err)
	}
	// The kubelet registers with the not-ready taint; the node lifecycle
	// controller, which would lift it, does not run here (the process node
	// renews no lease it could watch).
	if out, err := kubectl(ctx, l, "taint", "node", KubeletNodeName, "node.kubernetes.io/not-ready:NoSchedule-"); err != nil && !strings.Contains(out, "not found") {
		return fmt.Errorf("remove the not-ready taint of %s: %w: %s", KubeletNodeName, err, out)
	}
	if err := start(l, r, kubeProxy); err != nil {
		return err
	}
	return wait(ctx, l, r, timeout, kubeProxy, func(ctx context.Context) error {
		return expect200(ctx, c.local, fmt.Sprintf("http://127.0.0.1:%d/healthz", l.Net.Real().ProxyHealthz))
	})
}

// checkRealNodeHost names what the kubelet node needs from the machine.
func checkRealNodeHost() error {
	var missing []string
	for _, need := range []struct{ path, pkg string }{
		{runcPath, "runc"}, {"/usr/sbin/nft", "nftables"}, {"/usr/bin/dpkg-deb", "dpkg"},
	} {
		if !exists(need.path) {
			missing = append(missing, fmt.Sprintf("%s (apt-get install %s)", need.path, need.pkg))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("the kubelet node needs %s", strings.Join(missing, ", "))
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("the kubelet node needs root (containerd, runc, cgroups, network namespaces)")
	}
	return nil
}

// realRunning is true when every kubelet node component runs.
func realRunning(l Layout) bool {
	for _, comp := range RealComponents(l) {
		if _, ok := proc.Running(l.File(comp.Name + ".pid")); !ok {
			return false
		}
	}
	return true
}

// nodeReadyNamed is nil when node name reports Ready=True.
func (c *client) nodeReadyNamed(name string) probe {
	return func(ctx context.Context) error {
		code, body, err := get(ctx, c.api, c.net.APIServerURL()+"/api/v1/nodes/"+name)
		if err != nil {
			return err
		}
		if code != 200 {
			return fmt.Errorf("node %s: %d", name, code)
		}
		var n struct {
			Status struct {
				Conditions []struct{ Type, Status, Reason, Message string } `json:"conditions"`
			} `json:"status"`
		}
		if err := json.Unmarshal(body, &n); err != nil {
			return fmt.Errorf("decode node %s: %w", name, err)
		}
		for _, cond := range n.Status.Conditions {
			if cond.Type == "Ready" {
				if cond.Status == "True" {
					return nil
				}
				return fmt.Errorf("node %s Ready=%s (%s: %s)", name, cond.Status, cond.Reason, cond.Message)
			}
		}
		return fmt.Errorf("node %s has no Ready condition yet", name)
	}
}

// kubectlStdin runs bin/kubectl as admin with stdin.
func kubectlStdin(ctx context.Context, l Layout, stdin string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, l.BinPath("kubectl"), append([]string{"--kubeconfig=" + l.PKI(adminName+".kubeconfig")}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}
