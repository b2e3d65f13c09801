package cluster

import (
	"fmt"
	"path/filepath"
)

// KubeletNodeName is the real node's name (arl-local up --node=kubelet).
const KubeletNodeName = "arl-kubelet"

// RealNet holds the machine-wide addresses of instance n's kubelet node.
// Its pods live on bridge arlkN in 10.245.N.0/24, beside the process
// node's arlN and 10.244.N.0/24: both bridges are the host's, so the host
// routes between the two pod ranges. Its ports sit just above the process
// node's kubelet port.
type RealNet struct {
	Bridge       string
	PodCIDR      string
	GatewayIP    string // the host's address on the bridge: the node IP
	KubeletPort  int
	HealthzPort  int // kubelet /healthz, loopback only
	ProxyHealthz int // kube-proxy /healthz, loopback only
	ProxyMetrics int // kube-proxy /metrics, loopback only
	CgroupRoot   string
}

// Real returns the kubelet node's addresses of instance n.
func (n Network) Real() RealNet {
	return RealNet{
		Bridge:       fmt.Sprintf("arlk%d", n.Instance),
		PodCIDR:      fmt.Sprintf("10.245.%d.0/24", n.Instance),
		GatewayIP:    fmt.Sprintf("10.245.%d.1", n.Instance),
		KubeletPort:  n.KubeletPort + 1,
		HealthzPort:  n.KubeletPort + 2,
		ProxyHealthz: n.KubeletPort + 3,
		ProxyMetrics: n.KubeletPort + 4,
		CgroupRoot:   fmt.Sprintf("/arl-kubelet-%d", n.Instance),
	}
}

// RealDir is the kubelet node's directory in the state directory: the
// kubelet's root, containerd's root and state, CNI config and binaries,
// pod logs. Everything the node mounts is under it, so down can find it.
func (l Layout) RealDir(parts ...string) string {
	return filepath.Join(append([]string{l.State, "realnode"}, parts...)...)
}

// ContainerdSocket is the real node's containerd (CRI) socket.
func (l Layout) ContainerdSocket() string { return l.RealDir("containerd", "containerd.sock") }
