package image

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// PushTarball uploads the single image of an image tarball (as
// arl-rootfs-image writes them) as ref and returns ref's repository with
// the pushed manifest's digest. The local cluster's real node pulls its
// executor images (the python:3.9-slim stand-in, busybox) this way, from
// its loopback registry.
func PushTarball(ctx context.Context, path, ref string) (string, error) {
	tag, err := name.NewTag(ref)
	if err != nil {
		return "", fmt.Errorf("image reference %q: %w", ref, err)
	}
	img, err := tarball.ImageFromPath(path, nil)
	if err != nil {
		return "", fmt.Errorf("read image tarball %s: %w", path, err)
	}
	if err := Reachable(ctx, tag.Context().RegistryStr()); err != nil {
		return "", err
	}
	transport := remote.DefaultTransport.(*http.Transport).Clone()
	transport.DialContext = (&net.Dialer{Timeout: DialTimeout}).DialContext
	transport.ResponseHeaderTimeout = 30 * time.Second
	if err := remote.Write(tag, img, remote.WithContext(ctx), remote.WithTransport(transport),
		remote.WithRetryBackoff(remote.Backoff{Duration: 200 * time.Millisecond, Factor: 2, Steps: 3})); err != nil {
		return "", fmt.Errorf("push %s: %w", tag, err)
	}
	d, err := img.Digest()
	if err != nil {
		return "", fmt.Errorf("digest of %s: %w", path, err)
	}
	return tag.Context().String() + "@" + d.String(), nil
}
