//go:build e2erealnode

package e2erealnode

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// hostState is what the real node may change on the machine; down must
// leave each of these as it found them.
type hostState struct {
	Processes []string          // processes whose command line names the state directory
	Mounts    []string          // mount points under the state directory
	Cgroups   []string          // cgroup directories of the node's cgroup root
	Netns     []string          // entries of /var/run/netns but other clusters' pods
	Links     []string          // the two nodes' bridges and the veths on them
	Rules     []string          // nftables/iptables lines of kube-proxy, kubelet, CNI and the two bridges
	Sysctls   map[string]string // forwarding, bridge netfilter, what the kubelet sets
	LogLinks  []string          // /var/log/containers links into the state directory
}

func snapshotHost(t *testing.T) hostState {
	t.Helper()
	s := hostState{Sysctls: map[string]string{}}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && strings.Contains(string(cmdline), cluster.StateDir) && e.Name() != fmt.Sprint(os.Getpid()) {
			s.Processes = append(s.Processes, e.Name()+" "+strings.ReplaceAll(string(cmdline), "\x00", " "))
		}
	}
	if f, err := os.Open("/proc/self/mountinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if fields := strings.Fields(sc.Text()); len(fields) > 4 && strings.HasPrefix(fields[4], cluster.StateDir) {
				s.Mounts = append(s.Mounts, fields[4])
			}
		}
		f.Close()
	}
	dirs, _ := filepath.Glob(fmt.Sprintf("/sys/fs/cgroup/*/arl-kubelet-%d", instance))
	s.Cgroups = dirs
	if ns, err := os.ReadDir("/var/run/netns"); err == nil {
		for _, n := range ns {
			if ours(n.Name()) {
				s.Netns = append(s.Netns, n.Name())
			}
		}
	}
	if links, err := os.ReadDir("/sys/class/net"); err == nil {
		for _, l := range links {
			master, _ := os.Readlink(filepath.Join("/sys/class/net", l.Name(), "master"))
			if m := filepath.Base(master); l.Name() == bridge || m == bridge || l.Name() == processBridge || m == processBridge {
				s.Links = append(s.Links, l.Name())
			}
		}
	}
	for _, cmd := range [][]string{{"nft", "list", "tables"}, {"iptables-save"}, {"ip6tables-save"}} {
		out, _ := exec.Command(cmd[0], cmd[1:]...).Output()
		for _, line := range strings.Split(string(out), "\n") {
			if strings.Contains(line, "KUBE") || strings.Contains(line, "kube-proxy") || strings.Contains(line, "CNI") || strings.Contains(line, "cni_hostport") ||
				strings.Contains(line, " "+bridge+" ") || strings.Contains(line, " "+processBridge+" ") {
				s.Rules = append(s.Rules, cmd[0]+": "+line)
			}
		}
	}
	for _, p := range []string{"net/ipv4/ip_forward", "net/bridge/bridge-nf-call-iptables", "net/bridge/bridge-nf-call-ip6tables",
		"vm/overcommit_memory", "vm/panic_on_oom", "kernel/panic", "kernel/panic_on_oops", "kernel/keys/root_maxkeys", "kernel/keys/root_maxbytes"} {
		v, _ := os.ReadFile("/proc/sys/" + p)
		s.Sysctls[p] = strings.TrimSpace(string(v))
	}
	logs, _ := filepath.Glob("/var/log/containers/*")
	for _, l := range logs {
		if dest, err := os.Readlink(l); err == nil && strings.HasPrefix(dest, cluster.StateDir) {
			s.LogLinks = append(s.LogLinks, l)
		}
	}
	for _, list := range [][]string{s.Processes, s.Mounts, s.Cgroups, s.Netns, s.Links, s.Rules, s.LogLinks} {
		sort.Strings(list)
	}
	return s
}

// ours is false for the network namespace of another cluster's process
// node pod (arl-<hash> with eth0 outside this instance's two pod ranges):
// the helpers' and CI's other clusters create and remove them meanwhile.
func ours(netns string) bool {
	if !strings.HasPrefix(netns, "arl-") {
		return true
	}
	out, _ := exec.Command("ip", "-n", netns, "-4", "-o", "addr", "show", "dev", "eth0").Output()
	fields := strings.Fields(string(out))
	if len(fields) < 4 {
		return false // no address: being created (or gone), not a pod of ours that down missed
	}
	addr := strings.Split(fields[3], "/")[0]
	return strings.HasPrefix(addr, fmt.Sprintf("10.244.%d.", instance)) || strings.HasPrefix(addr, fmt.Sprintf("10.245.%d.", instance))
}

// diffHost lists what after has that before had not (or changed).
func diffHost(before, after hostState) []string {
	var out []string
	added := func(what string, b, a []string) {
		have := map[string]bool{}
		for _, x := range b {
			have[x] = true
		}
		for _, x := range a {
			if !have[x] {
				out = append(out, what+": "+x)
			}
		}
	}
	added("process", before.Processes, after.Processes)
	added("mount", before.Mounts, after.Mounts)
	added("cgroup", before.Cgroups, after.Cgroups)
	added("netns", before.Netns, after.Netns)
	added("link", before.Links, after.Links)
	added("rule", before.Rules, after.Rules)
	added("log link", before.LogLinks, after.LogLinks)
	for k, v := range before.Sysctls {
		if after.Sysctls[k] != v {
			out = append(out, fmt.Sprintf("sysctl %s: %s before, %s after", k, v, after.Sysctls[k]))
		}
	}
	return out
}
