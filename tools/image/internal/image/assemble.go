package image

import (
	"fmt"
	"strconv"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// SourceURL is org.opencontainers.image.source.
const SourceURL = "https://github.com/arl-infra/arl"

// Labels are the OCI annotations of spec's image config.
func Labels(info BuildInfo, spec Spec) map[string]string {
	labels := map[string]string{
		"org.opencontainers.image.title":       spec.Name,
		"org.opencontainers.image.description": spec.Description,
		"org.opencontainers.image.version":     info.Version,
		"org.opencontainers.image.source":      SourceURL,
		"org.opencontainers.image.licenses":    "Apache-2.0",
		"org.opencontainers.image.created":     time.Unix(info.Epoch, 0).UTC().Format(time.RFC3339),
	}
	if info.Revision != "" {
		labels["org.opencontainers.image.revision"] = info.Revision
	}
	return labels
}

// Assemble makes the image of spec for linux/arch: the base layer, the
// binary layer, and a config running the binary as the non-root user.
func Assemble(info BuildInfo, spec Spec, arch string, base v1.Layer, binary []byte) (v1.Image, error) {
	bin, err := BinaryLayer(spec.Name, binary, info.Epoch)
	if err != nil {
		return nil, err
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err = mutate.AppendLayers(img, base, bin)
	if err != nil {
		return nil, fmt.Errorf("%s/%s: append layers: %w", spec.Name, arch, err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("%s/%s: config: %w", spec.Name, arch, err)
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = "linux", arch
	cfg.Created = v1.Time{Time: time.Unix(info.Epoch, 0).UTC()}
	cfg.Config.Entrypoint = []string{"/usr/local/bin/" + spec.Name}
	cfg.Config.Cmd = nil
	cfg.Config.User = strconv.Itoa(UserID) + ":" + strconv.Itoa(UserID)
	cfg.Config.WorkingDir = "/"
	cfg.Config.Env = []string{"PATH=/usr/local/bin", "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"}
	cfg.Config.Labels = Labels(info, spec)
	// History entries carry no time: they would only repeat Created.
	cfg.History = nil
	img, err = mutate.ConfigFile(img, cfg)
	if err != nil {
		return nil, fmt.Errorf("%s/%s: set config: %w", spec.Name, arch, err)
	}
	return img, nil
}

// Index is the multi-architecture OCI index of images, one per platform in
// the order given.
func Index(info BuildInfo, spec Spec, images map[string]v1.Image, archs []string) (v1.ImageIndex, error) {
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, arch := range archs {
		img, ok := images[arch]
		if !ok {
			return nil, fmt.Errorf("%s: no image for linux/%s", spec.Name, arch)
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{
			Add:        img,
			Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: arch}},
		})
	}
	return mutate.Annotations(idx, map[string]string{
		"org.opencontainers.image.title":   spec.Name,
		"org.opencontainers.image.version": info.Version,
		"org.opencontainers.image.created": time.Unix(info.Epoch, 0).UTC().Format(time.RFC3339),
	}).(v1.ImageIndex), nil
}
