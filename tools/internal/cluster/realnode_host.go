package cluster

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// hostSysctls are the machine-wide settings the kubelet node needs:
// forwarding between the two pod bridges and the host, and bridged pod
// traffic through netfilter so Service replies from a pod on the same
// bridge are un-NATed. up records the old values; down restores them.
var hostSysctls = map[string]string{
	"/proc/sys/net/ipv4/ip_forward":                 "1",
	"/proc/sys/net/bridge/bridge-nf-call-iptables":  "1",
	"/proc/sys/net/bridge/bridge-nf-call-ip6tables": "1",
}

// kubeletSysctls are the kernel settings the kubelet itself sets at start
// (protectKernelDefaults: false; with true it refuses to start unless they
// already match). up saves them with hostSysctls; down restores them.
var kubeletSysctls = []string{
	"/proc/sys/vm/overcommit_memory", "/proc/sys/vm/panic_on_oom", "/proc/sys/kernel/panic",
	"/proc/sys/kernel/panic_on_oops", "/proc/sys/kernel/keys/root_maxkeys", "/proc/sys/kernel/keys/root_maxbytes",
}

func savedSysctlsPath(l Layout) string { return l.RealDir("sysctls.saved") }

// prepareHost sets hostSysctls (saving what was there, once) and creates
// the node's bridge with the gateway address the kubelet listens on.
func prepareHost(l Layout) error {
	if _, err := os.Stat(savedSysctlsPath(l)); errors.Is(err, os.ErrNotExist) {
		var saved strings.Builder
		paths := slices.Sorted(maps.Keys(hostSysctls))
		for _, path := range append(paths, kubeletSysctls...) {
			if old, err := os.ReadFile(path); err == nil {
				fmt.Fprintf(&saved, "%s %s\n", path, strings.TrimSpace(string(old)))
			}
		}
		if err := os.WriteFile(savedSysctlsPath(l), []byte(saved.String()), 0o644); err != nil {
			return fmt.Errorf("save sysctls: %w", err)
		}
	}
	for path, value := range hostSysctls {
		if err := os.WriteFile(path, []byte(value), 0o644); err != nil {
			return fmt.Errorf("set %s=%s (the kubelet node needs it): %w", path, value, err)
		}
	}
	r := l.Net.Real()
	if err := createCgroupRoot(r.CgroupRoot); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join("/sys/class/net", r.Bridge)); err == nil {
		return nil
	}
	for _, args := range [][]string{
		{"link", "add", r.Bridge, "type", "bridge"},
		{"addr", "add", r.GatewayIP + "/24", "dev", r.Bridge},
		{"link", "set", r.Bridge, "up"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, out)
		}
	}
	return nil
}

// restoreHost deletes the bridge and puts the saved sysctls back.
func restoreHost(l Layout) error {
	var errs []error
	r := l.Net.Real()
	if _, err := os.Stat(filepath.Join("/sys/class/net", r.Bridge)); err == nil {
		if out, err := exec.Command("ip", "link", "del", r.Bridge).CombinedOutput(); err != nil {
			errs = append(errs, fmt.Errorf("ip link del %s: %w: %s", r.Bridge, err, out))
		}
	}
	data, err := os.ReadFile(savedSysctlsPath(l))
	if err == nil {
		for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			path, value, ok := strings.Cut(line, " ")
			if !ok {
				continue
			}
			if err := os.WriteFile(path, []byte(value), 0o644); err != nil {
				errs = append(errs, fmt.Errorf("restore %s: %w", path, err))
			}
		}
		_ = os.Remove(savedSysctlsPath(l))
	}
	return errors.Join(errs...)
}

// createCgroupRoot creates the kubelet's cgroup root in every hierarchy
// (the kubelet refuses a root that does not exist). A new v1 cpuset cgroup
// starts with no CPUs and memory nodes, so it gets its parent's.
func createCgroupRoot(root string) error {
	for _, h := range cgroupHierarchies() {
		dir := filepath.Join(h, root)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("create cgroup %s: %w", dir, err)
		}
		for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
			parent, err := os.ReadFile(filepath.Join(h, f))
			if err != nil {
				continue // not the cpuset hierarchy
			}
			if err := os.WriteFile(filepath.Join(dir, f), parent, 0o644); err != nil {
				return fmt.Errorf("set %s of %s: %w", f, dir, err)
			}
		}
	}
	return nil
}
