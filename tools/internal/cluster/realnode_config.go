package cluster

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Image references of the real node's own images. The pause image is
// imported into containerd's k8s.io namespace (the pinned sandbox image);
// the others are pushed to the cluster's registry and pulled from it:
// arl.local is served by the registry (registryHosts).
const (
	LocalRegistryHost = "arl.local"
	PauseImage        = "arl.local/pause:1"
	BusyboxImage      = "arl.local/busybox:1"
)

// runcPath is Debian's runc package (1.1.5 on bookworm): it runs OCI
// bundles on these machines' cgroup v1 hierarchy, where building runc
// v1.5 from its module would need cgo and libseccomp headers.
const runcPath = "/usr/bin/runc"

// containerdConfig is containerd v2's config (version 3): every path under
// the state directory, the CRI plugin on overlayfs with Debian's runc and
// the cgroupfs driver (no systemd on these machines), CNI from our
// directories, network namespaces and runc's state under the state
// directory, oom_score_adj never below containerd's own (these machines'
// root lacks CAP_SYS_RESOURCE: runc fails to set the sandbox's -998), no NRI (its socket would be machine-wide), no imported
// config from /etc.
func containerdConfig(l Layout) string {
	d := l.RealDir
	return fmt.Sprintf(`version = 3
root = %q
state = %q
imports = []

[grpc]
  address = %q

[ttrpc]
  address = %q

[plugins]
  [plugins.'io.containerd.cri.v1.images']
    snapshotter = "overlayfs"
    [plugins.'io.containerd.cri.v1.images'.pinned_images]
      sandbox = %q
    [plugins.'io.containerd.cri.v1.images'.registry]
      config_path = %q

  [plugins.'io.containerd.cri.v1.runtime']
    enable_selinux = false
    restrict_oom_score_adj = true
    netns_mounts_under_state_dir = true
    [plugins.'io.containerd.cri.v1.runtime'.containerd]
      default_runtime_name = "runc"
      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"
        runtime_path = %q
        [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
          BinaryName = %q
          Root = %q
          SystemdCgroup = false
    [plugins.'io.containerd.cri.v1.runtime'.cni]
      bin_dirs = [%q]
      conf_dir = %q
      max_conf_num = 1

  [plugins.'io.containerd.grpc.v1.cri']
    stream_server_address = "127.0.0.1"
    stream_server_port = "0"

  [plugins.'io.containerd.internal.v1.opt']
    path = %q

  [plugins.'io.containerd.nri.v1.nri']
    disable = true
`, d("containerd", "root"), d("containerd", "state"), l.ContainerdSocket(), l.ContainerdSocket()+".ttrpc",
		PauseImage, d("containerd", "certs.d"), l.BinPath("containerd-shim-runc-v2"), runcPath, d("runc"), d("cni", "bin"), d("cni", "net.d"), d("containerd", "opt"))
}

// cniConfig is the pod network: a bridge of its own with host-local
// addresses from the node's range, the host as gateway, no masquerade
// (pods only talk to this machine), hostPort through portmap.
func cniConfig(l Layout) string {
	r := l.Net.Real()
	return fmt.Sprintf(`{
  "cniVersion": "1.0.0",
  "name": "arl-kubelet",
  "plugins": [
    {
      "type": "bridge",
      "bridge": %q,
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": %q, "gateway": %q}]],
        "routes": [{"dst": "0.0.0.0/0"}],
        "dataDir": %q
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}, "backend": "nftables"}
  ]
}
`, r.Bridge, r.PodCIDR, r.GatewayIP, l.RealDir("cni", "ipam"))
}

// kubeletConfig is the KubeletConfiguration. failCgroupV1: false lets
// kubelet >= 1.35 run on these machines' cgroup v1 hierarchy; the pods'
// cgroups go under a root of this instance's own; every directory the
// kubelet writes is under the state directory; eviction thresholds are low
// because the disk is shared with other builds.
func kubeletConfig(l Layout) string {
	r := l.Net.Real()
	return fmt.Sprintf(`apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
failCgroupV1: false
cgroupDriver: cgroupfs
cgroupRoot: %q
cgroupsPerQOS: true
enforceNodeAllocatable: ["pods"]
containerRuntimeEndpoint: %q
address: %q
port: %d
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: %d
tlsCertFile: %q
tlsPrivateKeyFile: %q
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: false}
  x509: {clientCAFile: %q}
authorization:
  mode: AlwaysAllow
clusterDomain: cluster.local
failSwapOn: false
podLogsDir: %q
volumePluginDir: %q
evictionHard:
  memory.available: "100Mi"
  nodefs.available: "1%%"
  imagefs.available: "1%%"
  nodefs.inodesFree: "1%%"
imageGCHighThresholdPercent: 99
imageGCLowThresholdPercent: 98
serializeImagePulls: false
nodeStatusUpdateFrequency: 5s
syncFrequency: 10s
maxPods: 110
`, r.CgroupRoot, "unix://"+l.ContainerdSocket(), r.GatewayIP, r.KubeletPort, r.HealthzPort,
		l.RealDir("pki", "kubelet.crt"), l.RealDir("pki", "kubelet.key"), l.PKI(caName+".crt"),
		l.RealDir("pod-logs"), l.RealDir("volume-plugins"))
}

// kubeProxyConfig runs kube-proxy in nftables mode: its rules live in
// tables of its own (ip/ip6 kube-proxy), which --cleanup removes whole.
func kubeProxyConfig(l Layout) string {
	r := l.Net.Real()
	return fmt.Sprintf(`apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: nftables
clientConnection:
  kubeconfig: %q
hostnameOverride: %q
bindAddress: 127.0.0.1
healthzBindAddress: 127.0.0.1:%d
metricsBindAddress: 127.0.0.1:%d
clusterCIDR: %q
conntrack:
  maxPerCore: 0
`, l.RealDir("pki", "kube-proxy.kubeconfig"), KubeletNodeName, r.ProxyHealthz, r.ProxyMetrics,
		"10.244.0.0/15")
}

// registryHosts are containerd's hosts.toml files (registry.config_path):
// docker.io is mirrored by the cluster's loopback registry, so the
// manual's `python:3.9-slim` is pulled from there (the stand-in, pushed as
// library/python:3.9-slim); arl.local (the node's busybox) is served by it
// alone. Plain HTTP: the registry listens on loopback only.
func registryHosts(l Layout) map[string]string {
	reg := "http://" + l.Net.RegistryAddr()
	return map[string]string{
		"docker.io": fmt.Sprintf(`server = "https://registry-1.docker.io"

[host.%q]
  capabilities = ["pull", "resolve"]
`, reg),
		LocalRegistryHost: fmt.Sprintf(`server = %q
`, reg),
	}
}

// writeRealConfigs writes the config files and links the CNI plugins
// under the names containerd looks for.
func writeRealConfigs(l Layout) error {
	files := map[string]string{
		l.RealDir("containerd", "config.toml"):       containerdConfig(l),
		l.RealDir("cni", "net.d", "10-arl.conflist"): cniConfig(l),
		l.RealDir("kubelet-config.yaml"):             kubeletConfig(l),
		l.RealDir("kube-proxy-config.yaml"):          kubeProxyConfig(l),
	}
	for host, content := range registryHosts(l) {
		files[l.RealDir("containerd", "certs.d", host, "hosts.toml")] = content
	}
	for path, content := range files {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return fmt.Errorf("create %s: %w", filepath.Dir(path), err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	binDir := l.RealDir("cni", "bin")
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", binDir, err)
	}
	for _, plugin := range []string{"bridge", "host-local", "loopback", "portmap"} {
		link := filepath.Join(binDir, plugin)
		_ = os.Remove(link)
		if err := os.Symlink(l.BinPath("cni-"+plugin), link); err != nil {
			return fmt.Errorf("link CNI plugin %s: %w", plugin, err)
		}
	}
	return nil
}

// kubernetesEndpointSlice points the kubernetes Service (10.96.0.1:443)
// at the apiserver through the real node's gateway address: the apiserver
// runs with --endpoint-reconciler-type=none, and pods on a real kubelet
// find it by the Service IP (KUBERNETES_SERVICE_HOST), as on any cluster.
func kubernetesEndpointSlice(l Layout) string {
	return strings.TrimSpace(fmt.Sprintf(`
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: kubernetes-arl-local
  namespace: default
  labels:
    kubernetes.io/service-name: kubernetes
    endpointslice.kubernetes.io/managed-by: arl-local
addressType: IPv4
endpoints:
- addresses: [%q]
  conditions: {ready: true}
ports:
- name: https
  port: %d
  protocol: TCP
`, l.Net.Real().GatewayIP, l.Net.APIServerPort)) + "\n"
}
