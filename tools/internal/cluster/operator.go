package cluster

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// The operator's kustomization and what it deploys (operator/config).
const (
	operatorKustomization = "operator/config/default"
	operatorNamespace     = "arl-system"
	operatorDeployment    = "arl-operator"
)

// installOperator applies the operator's CRDs, RBAC, webhooks and
// Deployment with the cluster's kubectl and waits until the Deployment is
// available. The node runs its image as bin/arl-operator.
func installOperator(ctx context.Context, l Layout, r *reporter, timeout time.Duration) error {
	dir := filepath.Join(l.Repo, operatorKustomization)
	if !exists(filepath.Join(dir, "kustomization.yaml")) {
		r.Printf("operator: skipped, %s does not exist yet", operatorKustomization)
		return nil
	}
	if !exists(l.BinPath("arl-operator")) {
		r.Printf("operator: skipped, bin/arl-operator is not built")
		return nil
	}
	if !exists(l.BinPath("arl-node")) {
		r.Printf("operator: skipped, no node to run it")
		return nil
	}
	if out, err := kubectl(ctx, l, "apply", "--server-side", "--force-conflicts", "-k", dir); err != nil {
		return fmt.Errorf("install operator (kubectl apply -k %s): %w\n%s", operatorKustomization, err, out)
	}
	r.Printf("operator: manifests applied from %s", operatorKustomization)
	out, err := kubectl(ctx, l, "-n", operatorNamespace, "rollout", "status", "deployment/"+operatorDeployment,
		fmt.Sprintf("--timeout=%s", timeout))
	if err != nil {
		return fmt.Errorf("operator deployment %s/%s not available: %w\n%s\nsee: kubectl -n %s describe pods; kubectl -n %s logs deploy/%s",
			operatorNamespace, operatorDeployment, err, out, operatorNamespace, operatorNamespace, operatorDeployment)
	}
	if err := waitForWebhooks(ctx, l, timeout); err != nil {
		return err
	}
	r.Printf("operator: available, webhooks answer")
	return nil
}

// webhookProbe is a WarmPool the operator's webhook admits (Tasks and
// Sandboxes have no webhook: their rules are CEL; the WarmPool template's
// are the webhook's, failurePolicy Fail); creating it with --dry-run=server
// goes through the webhook and stores nothing.
const webhookProbe = `{"apiVersion":"arl.infra.io/v1alpha1","kind":"WarmPool","metadata":{"name":"arl-local-webhook-probe","namespace":"default"},"spec":{"replicas":1,"template":{"spec":{"containers":[{"name":"executor","image":"busybox","command":["sleep","infinity"]}]}}}}`

// waitForWebhooks waits until the API server can call the operator's
// webhooks: the Deployment can be available a moment before the API server
// trusts the certificate the operator just put in the configuration.
func waitForWebhooks(ctx context.Context, l Layout, timeout time.Duration) error {
	probe := l.File("webhook-probe.json")
	if err := os.WriteFile(probe, []byte(webhookProbe), 0o644); err != nil {
		return fmt.Errorf("write webhook probe: %w", err)
	}
	deadline := time.Now().Add(timeout)
	for {
		out, err := kubectl(ctx, l, "create", "--dry-run=server", "-f", probe)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the operator's webhooks do not answer after %s: %s\nsee: kubectl -n %s logs deploy/%s", timeout, out, operatorNamespace, operatorDeployment)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// kubectl runs bin/kubectl as admin.
func kubectl(ctx context.Context, l Layout, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, l.BinPath("kubectl"), append([]string{"--kubeconfig=" + l.PKI(adminName+".kubeconfig")}, args...)...)
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}
