// Package image builds ARL's container images without Docker: static Go
// binaries for linux/amd64 and linux/arm64 on a FROM-scratch file system
// (CA certificates, /tmp, a non-root user), assembled with
// go-containerregistry into one OCI image index per image, byte for byte
// reproducible from the same sources.
package image

// Spec is one image: a Go main package and what its image is called.
type Spec struct {
	Name        string // image name, also the binary's name in /usr/local/bin
	Module      string // module directory, relative to the repository root
	Package     string // package to build, relative to Module
	Description string // org.opencontainers.image.description
}

// Images are the images `make images` builds.
var Images = []Spec{
	{Name: "arl-operator", Module: "operator", Package: "./cmd/arl-operator",
		Description: "ARL operator: WarmPool, Sandbox and Task controllers and their validating webhooks"},
	{Name: "arl-sidecar", Module: "sidecar", Package: "./cmd/arl-sidecar",
		Description: "ARL sidecar: the in-pod Connect/gRPC/HTTP agent, copied into executor images by the arl-install init container"},
}

// Platforms are the architectures of every image index.
var Platforms = []string{"amd64", "arm64"}

// Lookup returns the spec named name.
func Lookup(name string) (Spec, bool) {
	for _, s := range Images {
		if s.Name == name {
			return s, true
		}
	}
	return Spec{}, false
}

// User is the non-root user every image runs as (distroless's "nonroot").
const (
	UserID   = 65532
	UserName = "nonroot"
)
