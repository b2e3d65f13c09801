package image

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// BuildInfo is what is stamped into binaries and labels.
type BuildInfo struct {
	Repo     string // repository root
	Version  string // org.opencontainers.image.version and -X main.version
	Revision string // git commit, org.opencontainers.image.revision ("" when unknown)
	// Epoch is the Unix time used for every timestamp (files, config,
	// org.opencontainers.image.created): fixed, so builds are reproducible.
	Epoch int64
}

// BuildBinary compiles spec's package for linux/arch into dest as a static
// binary: CGO_ENABLED=0 (no libc, no ELF interpreter: the sidecar is copied
// into arbitrary executor images), -trimpath and an empty build id so the
// same sources give the same bytes, and the version stamped into
// main.version.
func BuildBinary(ctx context.Context, info BuildInfo, spec Spec, arch, dest string) error {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("building %s needs the Go toolchain on PATH: %w", spec.Name, err)
	}
	ldflags := "-s -w -buildid= -X main.version=" + info.Version
	cmd := exec.CommandContext(ctx, goBin, "build", "-trimpath", "-ldflags", ldflags, "-o", dest, spec.Package)
	cmd.Dir = filepath.Join(info.Repo, spec.Module)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch, "GOFLAGS=-buildvcs=false")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build %s for linux/%s: %w\n%s", spec.Package, arch, err, stderr.String())
	}
	return nil
}
