package cluster

import (
	"context"
	"io"

	"github.com/arl-infra/arl/tools/internal/build"
)

// BuildRealNode builds what the kubelet node needs beyond the control
// plane (which holds kubelet and kube-proxy): containerd and the CNI
// plugins, each cached like the control plane.
func BuildRealNode(ctx context.Context, l Layout, out io.Writer) error {
	r := newReporter(out)
	b := &build.Builder{Repo: l.Repo, BinDir: l.Bin, CacheDir: l.Cache, Progress: r.Printf}
	return ensureAll(ctx, b, r, build.RealNode)
}
