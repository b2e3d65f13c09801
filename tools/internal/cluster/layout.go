// Package cluster runs the local cluster: certificates, the control-plane
// components and the process node as background processes under a state
// directory, and the up, down, status and env commands over them.
package cluster

import (
	"fmt"
	"os"
	"path/filepath"
)

// Cluster-wide names that do not depend on the instance.
const (
	NodeName    = "arl-node"
	ServiceCIDR = "10.96.0.0/16"
	ServiceIP   = "10.96.0.1"
	SAIssuer    = "https://kubernetes.default.svc.cluster.local"
)

// Network holds the machine-wide addresses of one local cluster instance.
// Instance 0 is the default cluster (bridge arl0, pods 10.244.0.0/24,
// apiserver :6443); instance N shifts every port and uses bridge arlN and
// pods 10.244.N.0/24, so a test cluster can run beside it.
type Network struct {
	Instance       int
	Bridge         string
	PodCIDR        string
	GatewayIP      string // the host's address on the bridge; pods reach the apiserver there
	APIServerPort  int
	EtcdClientPort int
	EtcdPeerPort   int
	KubeletPort    int
	ControllerPort int
	SchedulerPort  int
}

// NewNetwork returns the addresses of instance n (0 to 200).
func NewNetwork(n int) Network {
	return Network{
		Instance:       n,
		Bridge:         fmt.Sprintf("arl%d", n),
		PodCIDR:        fmt.Sprintf("10.244.%d.0/24", n),
		GatewayIP:      fmt.Sprintf("10.244.%d.1", n),
		APIServerPort:  6443 + n,
		EtcdClientPort: 2379 + 10*n,
		EtcdPeerPort:   2380 + 10*n,
		KubeletPort:    10250 + 100*n,
		ControllerPort: 10257 + 100*n,
		SchedulerPort:  10259 + 100*n,
	}
}

// APIServerURL is the apiserver's address for clients on the host.
func (n Network) APIServerURL() string { return fmt.Sprintf("https://127.0.0.1:%d", n.APIServerPort) }

// EtcdClientURL is etcd's client address (loopback only).
func (n Network) EtcdClientURL() string { return fmt.Sprintf("http://127.0.0.1:%d", n.EtcdClientPort) }

// EtcdPeerURL is etcd's peer address (loopback only).
func (n Network) EtcdPeerURL() string { return fmt.Sprintf("http://127.0.0.1:%d", n.EtcdPeerPort) }

// KubeletAddr is where the node serves the kubelet API.
func (n Network) KubeletAddr() string { return fmt.Sprintf("127.0.0.1:%d", n.KubeletPort) }

// Layout is where a local cluster keeps its binaries and state.
type Layout struct {
	Repo  string // repository root
	Bin   string // built binaries, <repo>/bin
	State string // state directory, <repo>/.state/local by default
	Cache string // binary cache shared across checkouts ("" = none)
	Net   Network
}

// NewLayout fills the default bin and state directories of repo.
func NewLayout(repo, state, cache string, instance int) Layout {
	if state == "" {
		state = DefaultState(repo)
	}
	if abs, err := filepath.Abs(state); err == nil {
		state = abs
	}
	return Layout{Repo: repo, Bin: filepath.Join(repo, "bin"), State: state, Cache: cache, Net: NewNetwork(instance)}
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

// instanceFile records which instance a state directory was started as, so
// later commands on it use the same addresses.
const instanceFile = "instance"

// RecordedInstance is the instance a state directory was last started as,
// or -1 when none is recorded.
func RecordedInstance(state string) int {
	data, err := os.ReadFile(filepath.Join(state, instanceFile))
	if err != nil {
		return -1
	}
	var n int
	if _, err := fmt.Sscanf(string(data), "%d", &n); err != nil {
		return -1
	}
	return n
}

// DefaultState is the state directory used when none is given.
func DefaultState(repo string) string { return filepath.Join(repo, ".state", "local") }

func (l Layout) recordInstance() error {
	path := filepath.Join(l.State, instanceFile)
	if err := os.WriteFile(path, []byte(fmt.Sprintf("%d\n", l.Net.Instance)), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
