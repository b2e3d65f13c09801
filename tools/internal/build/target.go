// Package build compiles the local cluster's binaries into <repo>/bin,
// skipping those already up to date, and keeps the slow control-plane
// binary in a content-keyed cache shared by every checkout on the machine.
package build

import "strings"

// Target is one binary to build.
type Target struct {
	Name   string // file name in bin/
	Module string // module directory, relative to the repository root
	// Package to build: relative to Module (./cmd/arl-node), or the import
	// path of a main package in one of Module's dependencies (a `tool` of
	// its go.mod).
	Package string
	LDFlags string   // -ldflags value
	Tags    string   // -tags value
	Env     []string // extra environment for go build, e.g. CGO_ENABLED=0
	Sources []string // directories (relative to the repository root) whose Go files feed the binary
	Links   []string // names in bin/ to symlink to the binary
	// Cached marks the heavy control-plane binary: rebuilt when its key (Go
	// version, flags, go.mod, go.sum, sources) changes, and reused from the
	// cache directory when a binary with the same key is there.
	Cached bool
	// Optional targets whose package does not exist yet are skipped with a
	// warning instead of failing the build.
	Optional bool
	// ColdBuild, when set, is how long a build without Go's build cache
	// takes on 2 cores, printed so a long wait is not mistaken for a hang.
	ColdBuild string
}

// KubeVersion is the Kubernetes release the control plane is built from.
const KubeVersion = "v1.37.2"

// ControlPlane is the multi-call binary holding etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler and kubectl.
var ControlPlane = Target{
	Name:      "arl-kube",
	Module:    "tools",
	Package:   "./cmd/arl-kube",
	LDFlags:   "-s -w" + versionFlags("k8s.io/component-base/version") + versionFlags("k8s.io/client-go/pkg/version"),
	Sources:   []string{"tools/cmd/arl-kube"},
	Links:     []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl", "kubelet", "kube-proxy"},
	Cached:    true,
	ColdBuild: "~8 min",
}

// Node is the virtual-kubelet node running pods as processes.
var Node = Target{
	Name: "arl-node", Module: "tools/node", Package: "./cmd/arl-node",
	Sources: []string{"tools/node"}, Optional: true,
}

// NodeInit is the small pod-init/container-init helper the node starts in
// every pod (the node falls back to re-running itself without it).
var NodeInit = Target{
	Name: "arl-node-init", Module: "tools/node", Package: "./cmd/arl-node-init",
	Sources: []string{"tools/node"}, Optional: true,
}

// Sidecar is the in-pod ARL agent, run for the sidecar image.
var Sidecar = Target{
	Name: "arl-sidecar", Module: "sidecar", Package: "./cmd/arl-sidecar",
	Sources: []string{"sidecar", "proto"}, Optional: true,
}

// Operator is the ARL operator, run for the operator image.
var Operator = Target{
	Name: "arl-operator", Module: "operator", Package: "./cmd/arl-operator",
	Sources: []string{"operator", "proto"}, Optional: true,
}

// Image builds, pushes and serves ARL's container images; the local
// cluster runs its registry (tools/image).
var Image = Target{
	Name: "arl-image", Module: "tools/image", Package: "./cmd/arl-image",
	Sources: []string{"tools/image"}, Optional: true,
}

// Kwok is sigs.k8s.io/kwok (pinned in tools/kwok/go.mod) with kwokctl's
// default stages, for simulated nodes (arl-local up --sim-nodes). Its own
// module: kwok's k8s.io/* versions differ from the control plane's. Built
// only when simulated nodes are asked for, and cached like the control plane.
var Kwok = Target{
	Name: "arl-kwok", Module: "tools/kwok", Package: "./cmd/arl-kwok", LDFlags: "-s -w",
	Sources: []string{"tools/kwok/cmd/arl-kwok"}, Cached: true,
}

// All lists every target in build order, the control plane first.
var All = []Target{ControlPlane, Node, NodeInit, Sidecar, Operator, Image}

// versionFlags stamps the Kubernetes version into a version package, so
// the servers report v1.37.2 and `kubectl version` can parse it.
func versionFlags(pkg string) string {
	return " -X " + pkg + ".gitVersion=" + KubeVersion +
		" -X " + pkg + ".gitMajor=1" +
		" -X " + pkg + ".gitMinor=37" +
		" -X " + pkg + ".gitTreeState=clean"
}

// local is true when Package is a directory of the module, not an import path.
func (t Target) local() bool { return strings.HasPrefix(t.Package, "./") || t.Package == "." }
