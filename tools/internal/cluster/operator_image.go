package cluster

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The release name and the repository path of the operator installed from
// its image (a kubelet node): `helm upgrade --install arl charts/arl`, the
// images pushed to the local registry under arl/.
const (
	helmRelease      = "arl"
	operatorChart    = "charts/arl"
	localImagePrefix = "arl"
	localImageTag    = "local"
)

// installOperatorFromImage builds the operator and sidecar images
// (linux/amd64, tools/image), pushes them to the cluster's registry and
// installs the Helm chart with both pinned by digest, as on any cluster:
// the kubelet node pulls them through containerd.
func installOperatorFromImage(ctx context.Context, l Layout, r *reporter, timeout time.Duration) error {
	for _, need := range []struct{ bin, how string }{
		{"arl-image", "arl-local builds it (tools/image)"},
		{"helm", "arl-local builds it (helm.sh/helm/v4, pinned in tools/codegen)"},
	} {
		if !exists(l.BinPath(need.bin)) {
			return fmt.Errorf("operator from its image: bin/%s is missing: %s", need.bin, need.how)
		}
	}
	out := l.File("images")
	start := time.Now()
	build := []string{"build", "--repo", l.Repo, "--out", out, "--platforms", "amd64",
		"--version", localImageTag, "--epoch", strconv.FormatInt(commitTime(ctx, l.Repo), 10)}
	if msg, err := runBin(ctx, l, "arl-image", build...); err != nil {
		return fmt.Errorf("build the operator and sidecar images: %w\n%s", err, msg)
	}
	registry := l.Net.RegistryAddr() + "/" + localImagePrefix
	if msg, err := runBin(ctx, l, "arl-image", "push", "--in", out, "--registry", registry, "--tag", localImageTag); err != nil {
		return fmt.Errorf("push the images to %s: %w\n%s", registry, err, msg)
	}
	digest := map[string]string{}
	for _, img := range []string{"arl-operator", "arl-sidecar"} {
		data, err := os.ReadFile(filepath.Join(out, img+".digest"))
		if err != nil {
			return fmt.Errorf("digest of %s: %w", img, err)
		}
		digest[img] = strings.TrimSpace(string(data))
	}
	r.Printf("operator: images built and pushed to %s in %.1fs (arl-operator@%s, arl-sidecar@%s)",
		registry, time.Since(start).Seconds(), short(digest["arl-operator"]), short(digest["arl-sidecar"]))
	args := []string{"--kubeconfig=" + l.PKI(adminName+".kubeconfig"),
		"upgrade", "--install", helmRelease, filepath.Join(l.Repo, operatorChart),
		"--namespace", operatorNamespace, "--create-namespace", "--wait", "--timeout", (2 * timeout).String(),
		"--set", "image.repository=" + registry + "/arl-operator", "--set", "image.digest=" + digest["arl-operator"],
		"--set", "sidecar.image.repository=" + registry + "/arl-sidecar", "--set", "sidecar.image.digest=" + digest["arl-sidecar"]}
	if msg, err := runBin(ctx, l, "helm", args...); err != nil {
		return fmt.Errorf("helm upgrade --install %s %s: %w\n%s\nsee: kubectl -n %s describe pods; kubectl -n %s logs deploy/%s",
			helmRelease, operatorChart, err, msg, operatorNamespace, operatorNamespace, operatorDeployment)
	}
	r.Printf("operator: chart %s installed (release %s in %s)", operatorChart, helmRelease, operatorNamespace)
	if err := waitForWebhooks(ctx, l, timeout); err != nil {
		return err
	}
	r.Printf("operator: available from its image, webhooks answer")
	return nil
}

// commitTime is the repository's last commit time (the images'
// timestamps: the same commit gives the same digests), or 0.
func commitTime(ctx context.Context, repo string) int64 {
	out, err := exec.CommandContext(ctx, "git", "-C", repo, "log", "-1", "--format=%ct").Output()
	if err != nil {
		return 0
	}
	n, _ := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
	return n
}

// runBin runs one of bin/'s programs and returns its combined output.
func runBin(ctx context.Context, l Layout, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, l.BinPath(name), args...)
	cmd.Dir = l.Repo
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

func short(digest string) string {
	if len(digest) > len("sha256:")+12 {
		return digest[:len("sha256:")+12]
	}
	return digest
}
