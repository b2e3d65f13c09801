package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/arl-infra/arl/tools/internal/build"
	"github.com/arl-infra/arl/tools/internal/proc"
)

// Simulated nodes (kwok): Node objects kwok keeps Ready, whose pods become
// Running and Ready without any process. They carry kwok's standard label
// and taint, so a pool template targets them with
//
//	nodeSelector: {type: kwok}
//	tolerations: [{key: kwok.x-k8s.io/node, operator: Exists, effect: NoSchedule}]
//
// and no other pod lands there. docs/performance.md says what kwok does not
// simulate (no sidecar answers, so no Tasks run there).
const (
	SimNodeLabel      = "type"               // kwok's standard node label ...
	SimNodeLabelValue = "kwok"               // ... type=kwok
	SimNodeTaintKey   = "kwok.x-k8s.io/node" // kwok's standard taint and annotation key,
	SimNodeTaintValue = "fake"               // kwok.x-k8s.io/node=fake:NoSchedule
	simNodePrefix     = "kwok-node-"         // node names kwok-node-0 ... kwok-node-(N-1)
	simNodesFile      = "sim-nodes"          // the state file recording N
	simPodCIDR        = "100.64.0.0/16"      // fake pod IPs (shared address space: routed nowhere here)
	simNodeCPU        = "32"                 // each node's capacity, as kwok's examples
	simNodeMemory     = "256Gi"              //
	kwokComponentName = "kwok"               // log kwok.log, pid kwok.pid
	kwokBinary        = "arl-kwok"           // tools/kwok/cmd/arl-kwok
	DefaultSimPods    = 110                  // pods per simulated node: the kubelet's default
	simNodeLeaseSecs  = 40                   // kwok renews a node's Lease every quarter of this
)

// What one simulated node and one simulated pod cost this machine, measured
// on the 2-core VM (docs/performance.md, "Simulated nodes"): a node renews
// its Lease every 10 s, one write through the API server and etcd; a pod
// is held by the API server's watch cache, etcd, the scheduler, the
// controller manager, kwok and the operator.
const (
	simNodesPerCore   = 100       // 100 nodes per core: 10 Lease writes/s per core
	simPodMemoryBytes = 100 << 10 // ~100 KiB of memory per pod across all components
)

// SimNodeLimits are what this machine can hold.
type SimNodeLimits struct {
	Cores        int
	MemAvailable int64 // bytes; 0 when unknown
}

// MachineSimNodeLimits reads the core count and /proc/meminfo.
func MachineSimNodeLimits() SimNodeLimits {
	return SimNodeLimits{Cores: runtime.NumCPU(), MemAvailable: memAvailable()}
}

// CheckSimNodes fails when n nodes of podsPerNode pods each are more than
// the machine can hold: too many Lease writes for its cores, or more pods
// than its free memory can keep.
func CheckSimNodes(n, podsPerNode int, lim SimNodeLimits) error {
	if n < 0 {
		return fmt.Errorf("--sim-nodes %d: want 0 or more", n)
	}
	if podsPerNode < 1 || podsPerNode > 10000 {
		return fmt.Errorf("--sim-pods-per-node %d: want 1 to 10000", podsPerNode)
	}
	if maxNodes := simNodesPerCore * lim.Cores; n > maxNodes {
		return fmt.Errorf("--sim-nodes %d: this machine holds at most %d simulated nodes (%d cores × %d: each node renews its Lease every %d s, a write through the API server and etcd); put more pods on fewer nodes with --sim-pods-per-node (now %d)",
			n, maxNodes, lim.Cores, simNodesPerCore, simNodeLeaseSecs/4, podsPerNode)
	}
	if pods := int64(n) * int64(podsPerNode); lim.MemAvailable > 0 && pods*simPodMemoryBytes > lim.MemAvailable {
		return fmt.Errorf("--sim-nodes %d × --sim-pods-per-node %d = %d pods: at ~%d KiB each across the API server, etcd, scheduler, kwok and operator that needs %d MiB, and only %d MiB of memory is available; ask for fewer nodes or fewer pods per node",
			n, podsPerNode, pods, simPodMemoryBytes>>10, pods*simPodMemoryBytes>>20, lim.MemAvailable>>20)
	}
	return nil
}

func memAvailable() int64 {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(data)) {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "MemAvailable:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

// SimNodes is the number of simulated nodes this state directory runs
// (0 when none).
func (l Layout) SimNodes() int {
	n, _ := readSimNodes(l)
	return n
}

// readSimNodes returns the recorded node count and pods per node.
func readSimNodes(l Layout) (nodes, podsPerNode int) {
	data, err := os.ReadFile(l.File(simNodesFile))
	if err != nil {
		return 0, DefaultSimPods
	}
	if _, err := fmt.Sscanf(string(data), "%d %d", &nodes, &podsPerNode); err != nil {
		return 0, DefaultSimPods
	}
	return nodes, podsPerNode
}

func recordSimNodes(l Layout, nodes, podsPerNode int) error {
	if nodes == 0 {
		if err := os.Remove(l.File(simNodesFile)); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("remove %s: %w", l.File(simNodesFile), err)
		}
		return nil
	}
	if err := os.WriteFile(l.File(simNodesFile), fmt.Appendf(nil, "%d %d\n", nodes, podsPerNode), 0o644); err != nil {
		return fmt.Errorf("record simulated nodes: %w", err)
	}
	return nil
}

// KwokPort is where kwok serves /healthz and /metrics (loopback only).
func (n Network) KwokPort() int { return 10270 + 100*n.Instance }

func kwok(l Layout) Component {
	return Component{Name: kwokComponentName, Binary: kwokBinary, Port: l.Net.KwokPort(), Args: []string{
		"--kubeconfig=" + l.PKI(adminName+".kubeconfig"),
		"--manage-nodes-with-annotation-selector=" + SimNodeTaintKey + "=" + SimNodeTaintValue,
		fmt.Sprintf("--server-address=127.0.0.1:%d", l.Net.KwokPort()),
		"--cidr=" + simPodCIDR,
		"--node-ip=" + l.Net.GatewayIP,
		fmt.Sprintf("--node-lease-duration-seconds=%d", simNodeLeaseSecs),
	}}
}

func (c *client) kwokHealthy(ctx context.Context) error {
	return expect200(ctx, c.local, fmt.Sprintf("http://127.0.0.1:%d/healthz", c.net.KwokPort()))
}

// ensureSimNodes creates (or resizes to) the recorded simulated nodes and
// waits until kwok reports them all Ready.
func ensureSimNodes(ctx context.Context, l Layout, r *reporter, c *client, timeout time.Duration) error {
	n, podsPerNode := readSimNodes(l)
	existing, err := c.simNodes(ctx)
	if err != nil {
		return err
	}
	var extra []string
	for name := range existing {
		if i, err := strconv.Atoi(strings.TrimPrefix(name, simNodePrefix)); err != nil || i >= n {
			extra = append(extra, name)
		}
	}
	if len(extra) > 0 {
		if out, err := kubectl(ctx, l, append([]string{"delete", "node", "--wait=false"}, extra...)...); err != nil {
			return fmt.Errorf("delete %d simulated nodes beyond %d: %w\n%s", len(extra), n, err, out)
		}
		r.Printf("simulated nodes: deleted %d beyond --sim-nodes %d", len(extra), n)
	}
	if n == 0 {
		return nil
	}
	manifest := l.File("sim-nodes.json")
	if err := os.WriteFile(manifest, simNodeList(n, podsPerNode), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", manifest, err)
	}
	if out, err := kubectl(ctx, l, "apply", "--server-side", "--force-conflicts", "-f", manifest); err != nil {
		return fmt.Errorf("create %d simulated nodes: %w\n%s", n, err, out)
	}
	err = waitFor(ctx, timeout, func(ctx context.Context) error {
		nodes, err := c.simNodes(ctx)
		if err != nil {
			return err
		}
		ready := 0
		for i := range n {
			if nodes[fmt.Sprintf("%s%d", simNodePrefix, i)] {
				ready++
			}
		}
		if ready < n {
			return fmt.Errorf("%d of %d simulated nodes Ready", ready, n)
		}
		return nil
	}, nil)
	if err != nil {
		return fmt.Errorf("simulated nodes: %w\nsee %s", err, l.File(kwokComponentName+".log"))
	}
	// The API server's TaintNodesByCondition admission taints a new node
	// not-ready:NoSchedule, and only the node lifecycle controller lifts it;
	// the local cluster runs none (it would also judge the process node), so
	// lift it here once kwok reports the nodes Ready.
	if out, err := kubectl(ctx, l, "taint", "nodes", "-l", SimNodeLabel+"="+SimNodeLabelValue, "node.kubernetes.io/not-ready:NoSchedule-"); err != nil && !strings.Contains(out, "not found") {
		return fmt.Errorf("lift the not-ready taint of the simulated nodes: %w\n%s", err, out)
	}
	r.Printf("simulated nodes: %d Ready (kwok), %d pods each; pool pods reach them with nodeSelector %s=%s and a toleration for %s=%s:NoSchedule",
		n, podsPerNode, SimNodeLabel, SimNodeLabelValue, SimNodeTaintKey, SimNodeTaintValue)
	return nil
}

// simNodes maps each simulated node's name to whether it is Ready.
func (c *client) simNodes(ctx context.Context) (map[string]bool, error) {
	url := c.net.APIServerURL() + "/api/v1/nodes?labelSelector=" + SimNodeLabel + "%3D" + SimNodeLabelValue
	code, body, err := get(ctx, c.api, url)
	if err != nil {
		return nil, err
	}
	if code != 200 {
		return nil, fmt.Errorf("list simulated nodes: %d %s", code, strings.TrimSpace(string(body)))
	}
	var list struct {
		Items []struct {
			Metadata struct{ Name string } `json:"metadata"`
			Status   struct {
				Conditions []struct{ Type, Status string } `json:"conditions"`
			} `json:"status"`
		} `json:"items"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return nil, fmt.Errorf("decode nodes: %w", err)
	}
	out := make(map[string]bool, len(list.Items))
	for _, item := range list.Items {
		ready := false
		for _, cond := range item.Status.Conditions {
			ready = ready || (cond.Type == "Ready" && cond.Status == "True")
		}
		out[item.Metadata.Name] = ready
	}
	return out, nil
}

// simNodeList is a v1 List of n Node objects as kwok's documentation
// writes them: its annotation, label and taint, a fixed capacity.
func simNodeList(n, podsPerNode int) []byte {
	items := make([]any, 0, n)
	capacity := map[string]string{"cpu": simNodeCPU, "memory": simNodeMemory, "pods": strconv.Itoa(podsPerNode)}
	for i := range n {
		name := fmt.Sprintf("%s%d", simNodePrefix, i)
		items = append(items, map[string]any{
			"apiVersion": "v1", "kind": "Node",
			"metadata": map[string]any{
				"name": name,
				"annotations": map[string]string{
					SimNodeTaintKey:                SimNodeTaintValue,
					"node.alpha.kubernetes.io/ttl": "0",
				},
				"labels": map[string]string{
					SimNodeLabel:                    SimNodeLabelValue,
					"kubernetes.io/arch":            runtime.GOARCH,
					"kubernetes.io/os":              "linux",
					"kubernetes.io/hostname":        name,
					"kubernetes.io/role":            "agent",
					"node-role.kubernetes.io/agent": "",
				},
			},
			"spec": map[string]any{"taints": []any{map[string]string{
				"key": SimNodeTaintKey, "value": SimNodeTaintValue, "effect": "NoSchedule",
			}}},
			"status": map[string]any{"capacity": capacity, "allocatable": capacity},
		})
	}
	data, _ := json.Marshal(map[string]any{"apiVersion": "v1", "kind": "List", "items": items})
	return data
}

// applySimNodesOption checks and records up's --sim-nodes before anything
// starts: n >= 0 sets the count (0 stops kwok; ensureSimNodes deletes the
// nodes), n < 0 keeps the recorded one. changed tells up that a running
// cluster still needs kwok started or its nodes resized.
func applySimNodesOption(l Layout, n, podsPerNode int) (changed bool, err error) {
	if n < 0 {
		return false, nil
	}
	if podsPerNode <= 0 {
		podsPerNode = DefaultSimPods
	}
	if err := CheckSimNodes(n, podsPerNode, MachineSimNodeLimits()); err != nil {
		return false, err
	}
	oldN, oldPods := readSimNodes(l)
	if n == oldN && (n == 0 || podsPerNode == oldPods) {
		return false, nil
	}
	if n == 0 {
		if err := proc.Stop(l.File(kwokComponentName+".pid"), 10*time.Second); err != nil {
			return false, fmt.Errorf("stop kwok: %w", err)
		}
	}
	return true, recordSimNodes(l, n, podsPerNode)
}

// targetsFor is what up builds beside the control plane: the node's
// targets, and kwok too when the cluster runs simulated nodes.
func targetsFor(l Layout, targets []build.Target) []build.Target {
	targets = slices.Clone(targets)
	if l.SimNodes() > 0 {
		targets = append(targets, build.Kwok)
	}
	return targets
}
