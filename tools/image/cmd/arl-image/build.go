package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/arl-infra/arl/tools/image/internal/image"
)

func runBuild(ctx context.Context, args []string) error {
	fs := newFlags("build")
	repo := fs.String("repo", "", "repository root (default: the directory above holding go.work)")
	out := fs.String("out", "", "output directory (default <repo>/.build/images)")
	version := fs.String("version", "dev", "image version: the layout's tag, org.opencontainers.image.version and main.version")
	revision := fs.String("revision", "", "git commit for org.opencontainers.image.revision")
	epoch := fs.Int64("epoch", 0, "Unix time of every timestamp in the images (e.g. the commit time); fixed so builds are reproducible")
	platforms := fs.String("platforms", strings.Join(image.Platforms, ","), "architectures (linux/<arch>)")
	names := fs.String("images", "", "comma-separated images to build (default all: arl-operator,arl-sidecar)")
	_ = fs.Parse(args)

	root, err := repoRoot(*repo)
	if err != nil {
		return err
	}
	if *out == "" {
		*out = filepath.Join(root, ".build", "images")
	}
	specs := image.Images
	if *names != "" {
		specs = nil
		for _, n := range strings.Split(*names, ",") {
			s, ok := image.Lookup(n)
			if !ok {
				return fmt.Errorf("unknown image %q", n)
			}
			specs = append(specs, s)
		}
	}
	info := image.BuildInfo{Repo: root, Version: *version, Revision: *revision, Epoch: *epoch}
	_, err = image.Build(ctx, info, specs, strings.Split(*platforms, ","), *out, os.Stdout)
	return err
}

// repoRoot is dir, or the first directory holding go.work above the
// working directory.
func repoRoot(dir string) (string, error) {
	if dir != "" {
		return filepath.Abs(dir)
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.work")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.work above %s: pass --repo", wd)
		}
	}
}
