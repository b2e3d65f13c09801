package cluster

import (
	"fmt"

	"github.com/arl-infra/arl/tools/internal/build"
)

// NodeKind selects the local cluster's nodes: the process node (arl-node,
// pods as host processes), a real kubelet node (kubelet + containerd +
// runc, pods from images), or both.
type NodeKind string

// The node kinds arl-local up --node accepts.
const (
	ProcessNode NodeKind = "process"
	KubeletNode NodeKind = "kubelet"
	BothNodes   NodeKind = "both"
)

// ParseNodeKind checks a --node value.
func ParseNodeKind(s string) (NodeKind, error) {
	switch k := NodeKind(s); k {
	case ProcessNode, KubeletNode, BothNodes:
		return k, nil
	case "":
		return ProcessNode, nil
	}
	return "", fmt.Errorf("--node=%q: want process, kubelet or both", s)
}

// Process is true when the process node runs.
func (k NodeKind) Process() bool { return k == ProcessNode || k == BothNodes || k == "" }

// Kubelet is true when the real kubelet node runs.
func (k NodeKind) Kubelet() bool { return k == KubeletNode || k == BothNodes }

// operatorSkipReason says why up does not install the operator on this
// kind of node, or "" when it does. The process node runs the operator's
// image as bin/arl-operator; a kubelet node pulls the image itself
// (installOperatorFromImage). With both nodes, the operator's and the pool
// pods could land on either: a mix not tested yet (docs/real-node.md).
func operatorSkipReason(k NodeKind) string {
	if k == BothNodes {
		return "with --node=both, the operator's and the pool pods could land on either node, a mix not tested yet (use --node=process or --node=kubelet to run the operator)"
	}
	return ""
}

// targets drops the process node's binaries when it does not run.
func (k NodeKind) targets(all []build.Target) []build.Target {
	if k.Process() {
		return all
	}
	var out []build.Target
	for _, t := range all {
		if t.Module != build.Node.Module {
			out = append(out, t)
		}
	}
	return out
}
