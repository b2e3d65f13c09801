package cluster

import (
	"encoding/json"
	"strings"
	"testing"

	kubeproxyv1alpha1 "k8s.io/kube-proxy/config/v1alpha1"
	kubeletv1beta1 "k8s.io/kubelet/config/v1beta1"
	"sigs.k8s.io/yaml"
)

func testLayout() Layout { return NewLayout("/repo", "/state", "", 3) }

// The kubelet rejects cgroup v1 unless failCgroupV1 is false, and these
// machines have no systemd: the config must decode strictly into the
// kubelet's own type with those values.
func TestKubeletConfigDecodesStrictly(t *testing.T) {
	var cfg kubeletv1beta1.KubeletConfiguration
	if err := yaml.UnmarshalStrict([]byte(kubeletConfig(testLayout())), &cfg); err != nil {
		t.Fatalf("kubelet config does not decode into KubeletConfiguration: %v", err)
	}
	if cfg.FailCgroupV1 == nil || *cfg.FailCgroupV1 {
		t.Errorf("failCgroupV1 = %v, want false", cfg.FailCgroupV1)
	}
	if cfg.CgroupDriver != "cgroupfs" || cfg.CgroupRoot != "/arl-kubelet-3" {
		t.Errorf("cgroupDriver, cgroupRoot = %q, %q", cfg.CgroupDriver, cfg.CgroupRoot)
	}
	if cfg.Address != "10.245.3.1" || cfg.Port != 10551 || cfg.ReadOnlyPort != 0 {
		t.Errorf("address %s port %d readOnlyPort %d", cfg.Address, cfg.Port, cfg.ReadOnlyPort)
	}
	for name, dir := range map[string]string{"podLogsDir": cfg.PodLogsDir, "volumePluginDir": cfg.VolumePluginDir} {
		if !strings.HasPrefix(dir, "/state/realnode/") {
			t.Errorf("%s = %s, want a directory under the state directory", name, dir)
		}
	}
}

func TestKubeProxyConfigDecodesStrictly(t *testing.T) {
	var cfg kubeproxyv1alpha1.KubeProxyConfiguration
	if err := yaml.UnmarshalStrict([]byte(kubeProxyConfig(testLayout())), &cfg); err != nil {
		t.Fatalf("kube-proxy config does not decode: %v", err)
	}
	if cfg.Mode != "nftables" || cfg.HostnameOverride != KubeletNodeName {
		t.Errorf("mode %q hostname %q", cfg.Mode, cfg.HostnameOverride)
	}
}

func TestCNIConfig(t *testing.T) {
	var cfg struct {
		Plugins []struct {
			Type   string `json:"type"`
			Bridge string `json:"bridge"`
			IPMasq bool   `json:"ipMasq"`
			IPAM   struct {
				Ranges [][]struct{ Subnet, Gateway string } `json:"ranges"`
			} `json:"ipam"`
		} `json:"plugins"`
	}
	if err := json.Unmarshal([]byte(cniConfig(testLayout())), &cfg); err != nil {
		t.Fatalf("CNI config is not JSON: %v", err)
	}
	if len(cfg.Plugins) != 2 || cfg.Plugins[0].Type != "bridge" || cfg.Plugins[1].Type != "portmap" {
		t.Fatalf("plugins = %+v, want bridge then portmap", cfg.Plugins)
	}
	br := cfg.Plugins[0]
	if br.Bridge != "arlk3" || br.IPMasq || br.IPAM.Ranges[0][0].Subnet != "10.245.3.0/24" || br.IPAM.Ranges[0][0].Gateway != "10.245.3.1" {
		t.Errorf("bridge plugin = %+v", br)
	}
}

// Every path containerd writes is under the state directory, so down finds
// its mounts, and instances never share one.
func TestContainerdConfigPaths(t *testing.T) {
	cfg := containerdConfig(testLayout())
	for _, want := range []string{
		`root = "/state/realnode/containerd/root"`, `state = "/state/realnode/containerd/state"`,
		`address = "/state/realnode/containerd/containerd.sock"`, `netns_mounts_under_state_dir = true`,
		`SystemdCgroup = false`, `BinaryName = "/usr/bin/runc"`, `sandbox = "arl.local/pause:1"`,
	} {
		if !strings.Contains(cfg, want) {
			t.Errorf("containerd config lacks %s", want)
		}
	}
}

func TestInCgroup(t *testing.T) {
	procCgroup := "12:pids:/arl-kubelet-3/kubepods/besteffort/pod1/abc\n1:name=systemd:/\n0::/"
	if !inCgroup(procCgroup, "/arl-kubelet-3") {
		t.Error("a process under the root is not found")
	}
	if inCgroup(procCgroup, "/arl-kubelet-30") || inCgroup("3:cpu:/arl-kubelet-30/x", "/arl-kubelet-3") {
		t.Error("a sibling root matches")
	}
}

func TestParseNodeKind(t *testing.T) {
	for in, want := range map[string]NodeKind{"": ProcessNode, "process": ProcessNode, "kubelet": KubeletNode, "both": BothNodes} {
		if got, err := ParseNodeKind(in); err != nil || got != want {
			t.Errorf("ParseNodeKind(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseNodeKind("docker"); err == nil {
		t.Error("ParseNodeKind(docker) accepted")
	}
	if ProcessNode.Kubelet() || !KubeletNode.Kubelet() || KubeletNode.Process() || !BothNodes.Process() || !BothNodes.Kubelet() {
		t.Error("Process/Kubelet wrong")
	}
}

func TestJumpsTo(t *testing.T) {
	saved := `*filter
:INPUT ACCEPT [0:0]
:KUBE-FIREWALL - [0:0]
-A INPUT -j KUBE-FIREWALL
-A OUTPUT -j KUBE-FIREWALL
-A FORWARD -j OTHER
-A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -j DROP
COMMIT`
	got := jumpsTo(saved, []string{"KUBE-FIREWALL"})
	if len(got) != 2 || got[0] != "INPUT -j KUBE-FIREWALL" || got[1] != "OUTPUT -j KUBE-FIREWALL" {
		t.Fatalf("jumpsTo = %q", got)
	}
}

// docker.io is mirrored by the loopback registry and arl.local served by
// it; images are pushed where those hosts look for them.
func TestRegistryMirror(t *testing.T) {
	l := testLayout()
	hosts := registryHosts(l)
	if h := hosts["docker.io"]; !strings.Contains(h, `[host."http://127.0.0.1:5003"]`) || !strings.Contains(h, `"pull", "resolve"`) {
		t.Errorf("docker.io hosts.toml does not mirror to the registry:\n%s", h)
	}
	if h := hosts["arl.local"]; !strings.Contains(h, `server = "http://127.0.0.1:5003"`) {
		t.Errorf("arl.local hosts.toml does not name the registry:\n%s", h)
	}
	for ref, want := range map[string]string{
		PythonStandInImage: "127.0.0.1:5003/library/python:3.9-slim",
		BusyboxImage:       "127.0.0.1:5003/busybox:1",
	} {
		if got, err := registryRef(l, ref); err != nil || got != want {
			t.Errorf("registryRef(%s) = %q, %v; want %s", ref, got, err, want)
		}
	}
	if _, err := registryRef(l, "quay.io/x:1"); err == nil {
		t.Error("registryRef accepted a host the registry does not mirror")
	}
}
