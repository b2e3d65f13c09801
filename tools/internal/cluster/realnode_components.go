package cluster

import "fmt"

// RealComponents are the kubelet node's processes in start order:
// containerd, then the kubelet, then kube-proxy.
func RealComponents(l Layout) []Component {
	r := l.Net.Real()
	return []Component{
		{Name: "containerd", Binary: "containerd", Args: []string{
			"--config=" + l.RealDir("containerd", "config.toml"),
			"--log-level=warn",
		}},
		{Name: "kubelet", Binary: "kubelet", Port: r.KubeletPort, Args: []string{
			"--config=" + l.RealDir("kubelet-config.yaml"),
			"--kubeconfig=" + l.RealDir("pki", "kubelet-client.kubeconfig"),
			"--root-dir=" + l.RealDir("kubelet"),
			"--cert-dir=" + l.RealDir("kubelet", "pki"),
			"--hostname-override=" + KubeletNodeName,
			"--node-ip=" + r.GatewayIP,
			"--v=1",
		}},
		{Name: "kube-proxy", Binary: "kube-proxy", Port: r.ProxyHealthz, Args: []string{
			"--config=" + l.RealDir("kube-proxy-config.yaml"),
			fmt.Sprintf("--v=%d", 1),
		}},
	}
}
