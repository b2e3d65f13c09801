//go:build e2elocal

package e2elocal

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

func newClientset(t *testing.T) *kubernetes.Clientset {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", cluster.Kubeconfig())
	if err != nil {
		t.Fatalf("load %s: %v", cluster.Kubeconfig(), err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatalf("clientset: %v", err)
	}
	return cs
}

func eventually(t *testing.T, timeout time.Duration, what string, cond func(ctx context.Context) (bool, error)) {
	t.Helper()
	if err := wait.PollUntilContextTimeout(t.Context(), 50*time.Millisecond, timeout, true, cond); err != nil {
		t.Fatalf("waiting %s for %s: %v", timeout, what, err)
	}
}

// requireNode fails the test with what to do when arl-node is missing.
func requireNode(t *testing.T) {
	t.Helper()
	if !nodeBuilt() {
		t.Fatalf("bin/arl-node is not built (module tools/node, ./cmd/arl-node; arl-local build builds it): this test needs the node")
	}
}

func nodeBuilt() bool {
	_, err := os.Stat(filepath.Join(cluster.Repo, "bin", "arl-node"))
	return err == nil
}

// recordedPIDs reads the pid files of the state directory.
func recordedPIDs(t *testing.T) map[string]int {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(cluster.StateDir, "*.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pids := map[string]int{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		fields := strings.Fields(string(data))
		if len(fields) == 0 {
			continue
		}
		pid, err := strconv.Atoi(fields[0])
		if err != nil {
			t.Fatalf("pid file %s: %v", f, err)
		}
		pids[strings.TrimSuffix(filepath.Base(f), ".pid")] = pid
	}
	return pids
}

// processAlive is true for a live, non-zombie process.
func processAlive(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && len(s) > i+2 && s[i+2] != 'Z'
}

// processesWithEnv lists pids whose environment holds marker.
func processesWithEnv(marker string) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err == nil && bytes.Contains(data, []byte(marker)) && processAlive(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// mountsUnder lists mount points at or below dir.
func mountsUnder(t *testing.T, dir string) []string {
	t.Helper()
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.Fields(line)
		if len(fields) > 4 && (fields[4] == dir || strings.HasPrefix(fields[4], dir+"/")) {
			out = append(out, fields[4])
		}
	}
	return out
}

// netnsOf is the network namespace arl-node creates for a pod UID (it
// mirrors tools/node/internal/netsetup.NamesFor).
func netnsOf(uid string) string {
	id := strings.ReplaceAll(uid, "-", "")
	return "arl-" + id[:11]
}

// leftNetns lists which of the given pods' network namespaces still exist.
func leftNetns(t *testing.T, uids []string) []string {
	t.Helper()
	want := map[string]bool{}
	for _, uid := range uids {
		want[netnsOf(uid)] = true
	}
	out, err := exec.Command("ip", "netns", "list").CombinedOutput()
	if err != nil {
		t.Fatalf("ip netns list: %v\n%s", err, out)
	}
	var names []string
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 0 && want[f[0]] {
			names = append(names, f[0])
		}
	}
	return names
}

func bridgeExists() bool {
	return exec.Command("ip", "link", "show", bridge).Run() == nil
}

func intOrString(port int) intstr.IntOrString { return intstr.FromInt32(int32(port)) }
