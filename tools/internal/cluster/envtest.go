package cluster

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/arl-infra/arl/tools/internal/build"
)

// envtestLinks are the names controller-runtime's envtest looks up in
// KUBEBUILDER_ASSETS (etcd, kube-apiserver, kubectl), plus the controller
// manager for tests that need garbage collection.
var envtestLinks = []string{"etcd", "kube-apiserver", "kubectl", "kube-controller-manager"}

// EnvtestAssets builds the control plane if needed and fills dir with
// links to it, for KUBEBUILDER_ASSETS.
func EnvtestAssets(ctx context.Context, l Layout, dir string, out io.Writer) error {
	r := newReporter(out)
	b := &build.Builder{Repo: l.Repo, BinDir: l.Bin, CacheDir: l.Cache, Progress: r.Printf}
	outcome, err := b.Ensure(ctx, build.ControlPlane)
	if err != nil {
		return fmt.Errorf("build %s: %w", build.ControlPlane.Name, err)
	}
	r.Printf("build %s: %s", build.ControlPlane.Name, outcome)
	dir, err = filepath.Abs(dir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	target := b.Path(build.ControlPlane)
	for _, name := range envtestLinks {
		link := filepath.Join(dir, name)
		if dest, err := os.Readlink(link); err == nil && dest == target {
			continue
		}
		_ = os.Remove(link)
		if err := os.Symlink(target, link); err != nil {
			return fmt.Errorf("link %s: %w", link, err)
		}
	}
	r.Printf("envtest assets ready: export KUBEBUILDER_ASSETS=%s", dir)
	return nil
}
