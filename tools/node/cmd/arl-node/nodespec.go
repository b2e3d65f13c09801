package main

import (
	"bufio"
	"os"
	"runtime"
	"strconv"
	"strings"

	"github.com/virtual-kubelet/virtual-kubelet/node/nodeutil"
	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// kubeletVersion is what `kubectl get nodes` shows: the control plane's.
const kubeletVersion = "v1.37.2"

// withNodeSpec fills the Node object: capacity (or the scheduler finds no
// room), addresses and the kubelet port (or the apiserver cannot reach logs
// and exec), labels and node info.
func withNodeSpec(o runOptions) nodeutil.NodeOpt {
	return func(cfg *nodeutil.NodeConfig) error {
		host, port := o.kubeletHostPort()
		n := &cfg.NodeSpec
		n.Labels["kubernetes.io/os"] = "linux"
		n.Labels["kubernetes.io/arch"] = runtime.GOARCH
		n.Labels["node.arl.infra.io/local"] = "true"
		capacity := corev1.ResourceList{
			corev1.ResourcePods:             resource.MustParse("110"),
			corev1.ResourceCPU:              *resource.NewQuantity(int64(runtime.NumCPU()), resource.DecimalSI),
			corev1.ResourceMemory:           *resource.NewQuantity(memTotal(), resource.BinarySI),
			corev1.ResourceEphemeralStorage: resource.MustParse("100Gi"),
		}
		n.Status.Capacity = capacity
		n.Status.Allocatable = capacity.DeepCopy()
		n.Status.Addresses = []corev1.NodeAddress{
			{Type: corev1.NodeInternalIP, Address: host},
			{Type: corev1.NodeHostName, Address: o.nodeName},
		}
		n.Status.DaemonEndpoints.KubeletEndpoint.Port = port
		n.Status.NodeInfo = corev1.NodeSystemInfo{
			OperatingSystem: "linux", Architecture: runtime.GOARCH, KubeletVersion: kubeletVersion,
			ContainerRuntimeVersion: "arl-node://processes", KernelVersion: kernelVersion(), OSImage: "host processes",
		}
		n.Spec.Taints = o.taints
		n.Spec.PodCIDR = o.podCIDR
		n.Spec.PodCIDRs = []string{o.podCIDR}
		for i, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady {
				continue
			}
			n.Status.Conditions[i].Status = corev1.ConditionFalse
			n.Status.Conditions[i].Reason = "KubeletHas" + strings.TrimPrefix(string(c.Type), "Node")
		}
		return nil
	}
}

func memTotal() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 8 << 30
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			if err == nil {
				return kb * 1024
			}
		}
	}
	return 8 << 30
}

func kernelVersion() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return ""
	}
	return unix.ByteSliceToString(u.Release[:])
}
