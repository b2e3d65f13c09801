package cluster

import (
	"context"
	"io"

	"github.com/arl-infra/arl/tools/internal/build"
)

// Build builds every binary the cluster runs, as up would, without
// starting anything (for CI caches and before timing a warm start).
func Build(ctx context.Context, l Layout, out io.Writer, rebuild bool) error {
	r := newReporter(out)
	b := &build.Builder{Repo: l.Repo, BinDir: l.Bin, CacheDir: l.Cache, Progress: r.Printf, Force: rebuild}
	return ensureAll(ctx, b, r, build.All)
}
