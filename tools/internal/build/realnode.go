package build

// ContainerdVersion is the containerd release tools/realnode/go.mod pins.
const ContainerdVersion = "v2.4.2"

// Containerd, its runc shim and ctr are `tool`s of tools/realnode/go.mod
// (github.com/containerd/containerd/v2), each its own binary: the shim
// initializes every plugin registered in its process, so it cannot share
// a binary with containerd's. Built without cgo: the cgo-only btrfs
// snapshotter drops out, and the node uses overlayfs.
var (
	Containerd     = containerdTool("containerd", "cmd/containerd")
	ContainerdShim = containerdTool("containerd-shim-runc-v2", "cmd/containerd-shim-runc-v2")
	Ctr            = containerdTool("ctr", "cmd/ctr")
)

func containerdTool(name, dir string) Target {
	return Target{
		Name:    name,
		Module:  "tools/realnode",
		Package: "github.com/containerd/containerd/v2/" + dir,
		LDFlags: "-s -w -X github.com/containerd/containerd/v2/version.Version=" + ContainerdVersion,
		Tags:    "no_btrfs no_devmapper no_zfs",
		Env:     []string{"CGO_ENABLED=0"},
		Cached:  true,
	}
}

// CNIPlugins are the CNI plugins the real node's pods use, each a `tool`
// of tools/realnode/go.mod (github.com/containernetworking/plugins). They
// are named cni-<plugin> in bin/; the node links them under their own
// names into its CNI bin directory.
var CNIPlugins = []Target{
	cniPlugin("bridge", "main/bridge"),
	cniPlugin("host-local", "ipam/host-local"),
	cniPlugin("loopback", "main/loopback"),
	cniPlugin("portmap", "meta/portmap"),
}

func cniPlugin(name, dir string) Target {
	return Target{
		Name:    "cni-" + name,
		Module:  "tools/realnode",
		Package: "github.com/containernetworking/plugins/plugins/" + dir,
		LDFlags: "-s -w",
		Env:     []string{"CGO_ENABLED=0"},
		Cached:  true,
	}
}

// Pause is the pod sandbox process of the real node's pause image.
var Pause = Target{
	Name: "arl-pause", Module: "tools/realnode", Package: "./cmd/arl-pause",
	LDFlags: "-s -w", Env: []string{"CGO_ENABLED=0"}, Sources: []string{"tools/realnode/cmd/arl-pause"},
}

// RootFSImage writes a directory as an image tarball for `ctr images import`.
var RootFSImage = Target{
	Name: "arl-rootfs-image", Module: "tools/realnode", Package: "./cmd/arl-rootfs-image",
	Sources: []string{"tools/realnode/cmd/arl-rootfs-image"},
}

// Helm installs the operator's chart onto a kubelet node (the operator
// from its image). helm.sh/helm/v4 is pinned in tools/codegen/go.mod, as
// for `make helm`; cached like the control plane.
var Helm = Target{
	Name: "helm", Module: "tools/codegen", Package: "helm.sh/helm/v4/cmd/helm",
	LDFlags: "-s -w", Cached: true,
}

// RealNode lists what a kubelet node needs beyond the control plane
// (whose arl-kube holds kubelet and kube-proxy). runc is Debian's package.
var RealNode = append([]Target{Containerd, ContainerdShim, Ctr, Pause, RootFSImage, Helm}, CNIPlugins...)
