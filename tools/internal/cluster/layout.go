// Package cluster runs the local cluster: certificates, the control-plane
// components and the process node as background processes under a state
// directory, and the up, down, status and env commands over them.
package cluster

import (
	"fmt"
	"os"
	"path/filepath"
)

// Fixed addresses of the local cluster. One cluster runs per machine: the
// bridge, pod CIDR and apiserver port are machine-wide.
const (
	NodeName      = "arl-node"
	APIServerPort = 6443
	APIServerURL  = "https://127.0.0.1:6443"
	// GatewayIP is the host's address on the pod bridge; pods reach the
	// apiserver there.
	GatewayIP      = "10.244.0.1"
	PodCIDR        = "10.244.0.0/24"
	ServiceCIDR    = "10.96.0.0/16"
	ServiceIP      = "10.96.0.1"
	EtcdClientURL  = "http://127.0.0.1:2379"
	EtcdPeerURL    = "http://127.0.0.1:2380"
	KubeletAddr    = "127.0.0.1:10250"
	ControllerPort = 10257
	SchedulerPort  = 10259
	SAIssuer       = "https://kubernetes.default.svc.cluster.local"
)

// Layout is where a local cluster keeps its binaries and state.
type Layout struct {
	Repo  string // repository root
	Bin   string // built binaries, <repo>/bin
	State string // state directory, <repo>/.state/local by default
	Cache string // binary cache shared across checkouts ("" = none)
}

// NewLayout fills the default bin and state directories of repo.
func NewLayout(repo, state, cache string) Layout {
	if state == "" {
		state = filepath.Join(repo, ".state", "local")
	}
	if abs, err := filepath.Abs(state); err == nil {
		state = abs
	}
	return Layout{Repo: repo, Bin: filepath.Join(repo, "bin"), State: state, Cache: cache}
}

// PKI is the directory holding certificates, keys and kubeconfigs.
func (l Layout) PKI(name string) string { return filepath.Join(l.State, "pki", name) }

// File is a path directly in the state directory.
func (l Layout) File(name string) string { return filepath.Join(l.State, name) }

// BinPath is the path of a binary (or multi-call link) in bin/.
func (l Layout) BinPath(name string) string { return filepath.Join(l.Bin, name) }

// Kubeconfig is the admin kubeconfig handed to the user.
func (l Layout) Kubeconfig() string { return l.File("kubeconfig") }

// NodeState is the node's own state directory.
func (l Layout) NodeState() string { return filepath.Join(l.State, "node") }

// FindRepo locates the repository root: $ARL_REPO_ROOT, else the first
// directory holding go.work and tools/go.mod going up from the working
// directory, else from the running executable's directory.
func FindRepo() (string, error) {
	if dir := os.Getenv("ARL_REPO_ROOT"); dir != "" {
		return filepath.Abs(dir)
	}
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if exe, err := os.Executable(); err == nil {
		if resolved, err := filepath.EvalSymlinks(exe); err == nil {
			exe = resolved
		}
		starts = append(starts, filepath.Dir(exe))
	}
	for _, start := range starts {
		for dir := start; ; dir = filepath.Dir(dir) {
			if isRepo(dir) {
				return dir, nil
			}
			if filepath.Dir(dir) == dir {
				break
			}
		}
	}
	return "", fmt.Errorf("cannot find the ARL repository (a directory with go.work and tools/go.mod) above %v; set ARL_REPO_ROOT", starts)
}

func isRepo(dir string) bool {
	for _, f := range []string{"go.work", filepath.Join("tools", "go.mod")} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			return false
		}
	}
	return true
}
