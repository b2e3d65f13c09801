package cluster

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/arl-infra/arl/tools/internal/proc"
)

// downRealNode stops the kubelet node and removes everything it put on
// the machine, in an order that also works after a crash: kube-proxy and
// its nftables tables, the kubelet and its Node object, every pod through
// containerd's CRI (containers, CNI DEL, network namespaces), containerd,
// then whatever is left: shim and container processes, mounts under the
// node's directory, the pods' cgroups, kube-proxy's and portmap's nftables
// tables, the kubelet's iptables chains, the bridge and the sysctls.
// It does nothing when this state directory never ran a kubelet node.
func downRealNode(ctx context.Context, l Layout, r *reporter, grace time.Duration) error {
	if !exists(l.RealDir()) {
		return nil
	}
	var errs []error
	stop := func(name string) {
		pidPath := l.File(name + ".pid")
		pid, wasRunning := proc.Running(pidPath)
		if err := proc.Stop(pidPath, grace); err != nil {
			errs = append(errs, fmt.Errorf("stop %s: %w", name, err))
		} else if wasRunning {
			r.Printf("%s: stopped (pid %d)", name, pid)
		}
	}
	stop("kube-proxy")
	if out, err := exec.CommandContext(ctx, l.BinPath("kube-proxy"), "--cleanup").CombinedOutput(); err != nil {
		errs = append(errs, fmt.Errorf("kube-proxy --cleanup: %w: %s", err, lastLines(string(out), 5)))
	}
	stop("kubelet")
	if _, err := kubectl(ctx, l, "delete", "node", KubeletNodeName, "--ignore-not-found", "--wait=false", "--request-timeout=5s"); err == nil {
		r.Printf("node %s deleted", KubeletNodeName)
	}
	if _, ok := proc.Running(l.File("containerd.pid")); ok {
		cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		n, err := removeAllPods(cctx, l.ContainerdSocket())
		cancel()
		if err != nil {
			errs = append(errs, err)
		} else if n > 0 {
			r.Printf("containerd: %d pods stopped and removed", n)
		}
	}
	stop("containerd")
	if n := killNodeProcesses(l); n > 0 {
		r.Printf("killed %d leftover shim or container processes", n)
	}
	errs = append(errs, unmountUnder(l.RealDir()), removeCgroups(l.Net.Real().CgroupRoot),
		deleteNftTables(), removeKubeletChains(), removeContainerLogLinks(l), restoreHost(l))
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("kubelet node cleanup: %w", err)
	}
	r.Printf("kubelet node cleanup: done")
	return nil
}

// killNodeProcesses SIGKILLs every process in the node's cgroup tree and
// every containerd shim serving this node's socket; it returns how many.
func killNodeProcesses(l Layout) int {
	root := l.Net.Real().CgroupRoot
	entries, _ := os.ReadDir("/proc")
	killed := 0
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		cgroups, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cgroup"))
		shim := strings.Contains(string(cmdline), l.ContainerdSocket())
		if shim || inCgroup(string(cgroups), root) {
			if syscall.Kill(pid, syscall.SIGKILL) == nil {
				killed++
			}
		}
	}
	if killed > 0 {
		time.Sleep(200 * time.Millisecond) // let the kernel reap them before unmounting
	}
	return killed
}

func inCgroup(procCgroup, root string) bool {
	for _, line := range strings.Split(procCgroup, "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) == 3 && (parts[2] == root || strings.HasPrefix(parts[2], root+"/")) {
			return true
		}
	}
	return false
}

// unmountUnder lazily unmounts every mount point under dir, deepest first:
// overlay root filesystems, network namespace files, pod volumes.
func unmountUnder(dir string) error {
	mounts, err := mountPointsUnder(dir)
	if err != nil {
		return err
	}
	var errs []error
	for _, m := range mounts {
		if err := syscall.Unmount(m, syscall.MNT_DETACH); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOENT) {
			errs = append(errs, fmt.Errorf("unmount %s: %w", m, err))
		}
	}
	return errors.Join(errs...)
}

// mountPointsUnder lists the mount points at or below dir, deepest first.
func mountPointsUnder(dir string) ([]string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var mounts []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		mp := unescapeMount(fields[4])
		if mp == dir || strings.HasPrefix(mp, dir+"/") {
			mounts = append(mounts, mp)
		}
	}
	sort.Slice(mounts, func(i, j int) bool { return len(mounts[i]) > len(mounts[j]) })
	return slices.Compact(mounts), sc.Err()
}

func unescapeMount(s string) string {
	return strings.NewReplacer(`\040`, " ", `\011`, "\t", `\012`, "\n", `\134`, `\`).Replace(s)
}

// cgroupHierarchies are the mounted cgroup hierarchies (v1 controllers and
// the unified one) the kubelet creates the pods' cgroups in.
func cgroupHierarchies() []string {
	dirs, _ := filepath.Glob("/sys/fs/cgroup/*")
	var out []string
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "cgroup.procs")); err == nil {
			out = append(out, d)
		}
	}
	return out
}

// removeCgroups removes root and everything under it in every hierarchy,
// deepest first (cgroup directories go with rmdir once empty).
func removeCgroups(root string) error {
	var errs []error
	for _, h := range cgroupHierarchies() {
		top := filepath.Join(h, root)
		if !exists(top) {
			continue
		}
		var dirs []string
		_ = filepath.WalkDir(top, func(path string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, path)
			}
			return nil
		})
		sort.Slice(dirs, func(i, j int) bool { return len(dirs[i]) > len(dirs[j]) })
		for _, d := range dirs {
			if err := syscall.Rmdir(d); err != nil && !errors.Is(err, syscall.ENOENT) {
				errs = append(errs, fmt.Errorf("remove cgroup %s: %w", d, err))
			}
		}
	}
	return errors.Join(errs...)
}

// nftTables are the tables kube-proxy (nftables mode) and the portmap CNI
// plugin (nftables backend) create.
var nftTables = []string{"ip kube-proxy", "ip6 kube-proxy", "ip cni_hostport", "ip6 cni_hostport"}

func deleteNftTables() error {
	var errs []error
	for _, t := range nftTables {
		args := append([]string{"list", "table"}, strings.Fields(t)...)
		if exec.Command("nft", args...).Run() != nil {
			continue // not there
		}
		args = append([]string{"delete", "table"}, strings.Fields(t)...)
		if out, err := exec.Command("nft", args...).CombinedOutput(); err != nil {
			errs = append(errs, fmt.Errorf("nft delete table %s: %w: %s", t, err, out))
		}
	}
	return errors.Join(errs...)
}

// removeContainerLogLinks removes the kubelet's links in
// /var/log/containers (a fixed path) that point into this node's logs.
func removeContainerLogLinks(l Layout) error {
	links, _ := filepath.Glob("/var/log/containers/*.log")
	var errs []error
	for _, link := range links {
		if dest, err := os.Readlink(link); err == nil && strings.HasPrefix(dest, l.RealDir()+"/") {
			if err := os.Remove(link); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
