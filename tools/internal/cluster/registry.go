package cluster

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
)

// The local cluster's OCI registry: `arl-image registry` (go-containerregistry's
// pkg/registry with blobs on disk and a manifest journal) on loopback, its
// data in the state directory (gone with `arl-local down --purge`).
// `make push REGISTRY=$ARL_REGISTRY` pushes the images there.
const (
	registryComponent = "arl-registry"
	registryPortBase  = 5000
	// RegistryFile in the state directory holds the registry's host:port,
	// for tools that find the registry without arl-local.
	RegistryFile = "registry-address"
)

// RegistryPort is the registry's port of instance n.
func (n Network) RegistryPort() int { return registryPortBase + n.Instance }

// RegistryAddr is the registry's host:port, plain HTTP on loopback.
func (n Network) RegistryAddr() string { return fmt.Sprintf("127.0.0.1:%d", n.RegistryPort()) }

// RegistryDir holds the registry's blobs and manifest journal.
func (l Layout) RegistryDir() string { return filepath.Join(l.State, "registry") }

func registry(l Layout) Component {
	return Component{Name: registryComponent, Binary: "arl-image", Port: l.Net.RegistryPort(), Optional: true, Args: []string{
		"registry", "--addr=" + l.Net.RegistryAddr(), "--dir=" + l.RegistryDir(),
	}}
}

// registryHealthy is nil when the registry answers the distribution API's
// version check (GET /v2/ -> 200).
func (c *client) registryHealthy(ctx context.Context) error {
	return expect200(ctx, c.local, "http://"+c.net.RegistryAddr()+"/v2/")
}

// writeRegistryFile records the registry's address in the state directory.
func writeRegistryFile(l Layout) error {
	path := l.File(RegistryFile)
	if err := os.WriteFile(path, []byte(l.Net.RegistryAddr()+"\n"), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
