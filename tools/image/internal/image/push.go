package image

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// DialTimeout bounds how long push waits to reach the registry: an
// unreachable registry fails in seconds, not after a long retry loop.
const DialTimeout = 3 * time.Second

// Push uploads idx as <registry>/<name>:<tag> (registry is host:port with
// an optional path) and returns the pushed reference with its digest.
// Loopback and private addresses are spoken to over plain HTTP
// (go-containerregistry's default for them); insecure forces it for any.
func Push(ctx context.Context, registry, imageName, tag string, idx v1.ImageIndex, insecure bool) (string, error) {
	var opts []name.Option
	if insecure {
		opts = append(opts, name.Insecure)
	}
	ref, err := name.NewTag(registry+"/"+imageName+":"+tag, opts...)
	if err != nil {
		return "", fmt.Errorf("image reference %s/%s:%s: %w", registry, imageName, tag, err)
	}
	if err := Reachable(ctx, ref.Context().RegistryStr()); err != nil {
		return "", err
	}
	transport := remote.DefaultTransport.(*http.Transport).Clone()
	transport.DialContext = (&net.Dialer{Timeout: DialTimeout}).DialContext
	transport.ResponseHeaderTimeout = 30 * time.Second
	if err := remote.WriteIndex(ref, idx, remote.WithContext(ctx), remote.WithTransport(transport),
		remote.WithRetryBackoff(remote.Backoff{Duration: 200 * time.Millisecond, Factor: 2, Steps: 3})); err != nil {
		return "", fmt.Errorf("push %s: %w", ref, err)
	}
	d, err := idx.Digest()
	if err != nil {
		return "", fmt.Errorf("digest: %w", err)
	}
	return ref.Context().String() + "@" + d.String(), nil
}

// Reachable fails quickly, with a message saying what to do, when nothing
// accepts connections at the registry's host:port.
func Reachable(ctx context.Context, hostport string) error {
	if _, _, err := net.SplitHostPort(hostport); err != nil {
		hostport = net.JoinHostPort(hostport, "443")
	}
	conn, err := (&net.Dialer{Timeout: DialTimeout}).DialContext(ctx, "tcp", hostport)
	if err != nil {
		return fmt.Errorf("registry %s is unreachable (%w): is it running? the local cluster's is at `arl-local env` ARL_REGISTRY", hostport, err)
	}
	return conn.Close()
}
