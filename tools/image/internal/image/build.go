package image

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
)

// Result is one built image.
type Result struct {
	Name   string
	Dir    string  // its OCI layout
	Digest v1.Hash // the index's digest
}

// Build builds every spec for every platform and writes each image as an
// OCI layout <out>/<name> (index tagged info.Version) with its index digest
// in <out>/<name>.digest. Progress lines go to progress.
func Build(ctx context.Context, info BuildInfo, specs []Spec, archs []string, out string, progress io.Writer) ([]Result, error) {
	ca, err := CABundle(CACertsDir)
	if err != nil {
		return nil, err
	}
	base, err := BaseLayer(ca, info.Epoch)
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "arl-image-")
	if err != nil {
		return nil, fmt.Errorf("temporary directory: %w", err)
	}
	defer os.RemoveAll(tmp)
	var results []Result
	for _, spec := range specs {
		images := map[string]v1.Image{}
		for _, arch := range archs {
			bin := filepath.Join(tmp, spec.Name+"-"+arch)
			fmt.Fprintf(progress, "build %s linux/%s\n", spec.Name, arch)
			if err := BuildBinary(ctx, info, spec, arch, bin); err != nil {
				return nil, err
			}
			data, err := os.ReadFile(bin)
			if err != nil {
				return nil, fmt.Errorf("read %s: %w", bin, err)
			}
			if images[arch], err = Assemble(info, spec, arch, base, data); err != nil {
				return nil, err
			}
		}
		idx, err := Index(info, spec, images, archs)
		if err != nil {
			return nil, err
		}
		r, err := WriteLayout(filepath.Join(out, spec.Name), info.Version, idx)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", spec.Name, err)
		}
		r.Name = spec.Name
		if err := os.WriteFile(filepath.Join(out, spec.Name+".digest"), []byte(r.Digest.String()+"\n"), 0o644); err != nil {
			return nil, fmt.Errorf("write digest: %w", err)
		}
		fmt.Fprintf(progress, "image %s@%s (%s)\n", spec.Name, r.Digest, r.Dir)
		results = append(results, r)
	}
	return results, nil
}

// refName is the OCI layout annotation naming a tagged index.
const refName = "org.opencontainers.image.ref.name"

// WriteLayout replaces dir with an OCI layout holding idx, tagged tag.
func WriteLayout(dir, tag string, idx v1.ImageIndex) (Result, error) {
	if err := os.RemoveAll(dir); err != nil {
		return Result{}, fmt.Errorf("remove old layout: %w", err)
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return Result{}, fmt.Errorf("create layout %s: %w", dir, err)
	}
	if err := p.AppendIndex(idx, layout.WithAnnotations(map[string]string{refName: tag})); err != nil {
		return Result{}, fmt.Errorf("write layout %s: %w", dir, err)
	}
	d, err := idx.Digest()
	if err != nil {
		return Result{}, fmt.Errorf("digest: %w", err)
	}
	return Result{Dir: dir, Digest: d}, nil
}

// ReadLayout returns the index tagged in the OCI layout dir and its tag.
func ReadLayout(dir string) (v1.ImageIndex, string, error) {
	p, err := layout.FromPath(dir)
	if err != nil {
		return nil, "", fmt.Errorf("open OCI layout %s (run make images first): %w", dir, err)
	}
	root, err := p.ImageIndex()
	if err != nil {
		return nil, "", fmt.Errorf("read %s/index.json: %w", dir, err)
	}
	m, err := root.IndexManifest()
	if err != nil {
		return nil, "", fmt.Errorf("read %s/index.json: %w", dir, err)
	}
	if len(m.Manifests) != 1 {
		return nil, "", fmt.Errorf("%s: want one image index, found %d entries", dir, len(m.Manifests))
	}
	idx, err := root.ImageIndex(m.Manifests[0].Digest)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", dir, err)
	}
	return idx, strings.TrimSpace(m.Manifests[0].Annotations[refName]), nil
}
