//go:build e2erealnode

package e2erealnode

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

var (
	repo     string // repository root
	arlLocal string // freshly built arl-local
	stateDir string // the test cluster's state directory
)

// instance 3 by default: beside the developer's cluster (0), e2elocal's
// (1) and the e2e suites' (2); ARL_E2EREALNODE_INSTANCE picks another when
// 3 is busy (the scale benchmark uses it too).
var (
	instance      = 3
	bridge        = "arlk3" // the kubelet node's
	processBridge = "arl3"  // the process node's
)

const (
	nodeName        = "arl-kubelet"
	processNodeName = "arl-node"
)

func TestMain(m *testing.M) {
	code, err := setup(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2erealnode:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func setup(m *testing.M) (int, error) {
	if os.Geteuid() != 0 {
		return 0, fmt.Errorf("the real node needs root (containerd, runc, cgroups, network namespaces)")
	}
	wd, err := os.Getwd()
	if err != nil {
		return 0, err
	}
	repo = filepath.Dir(filepath.Dir(wd)) // tools/e2erealnode -> repo
	if v := os.Getenv("ARL_E2EREALNODE_INSTANCE"); v != "" {
		if instance, err = strconv.Atoi(v); err != nil || instance < 0 || instance > 200 {
			return 0, fmt.Errorf("ARL_E2EREALNODE_INSTANCE=%q: want a cluster instance number (0-200)", v)
		}
		bridge, processBridge = fmt.Sprintf("arlk%d", instance), fmt.Sprintf("arl%d", instance)
	}
	if conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", 6443+instance), 200*time.Millisecond); err == nil {
		conn.Close()
		return 0, fmt.Errorf("something already listens on :%d: another run of these tests? (arl-local --instance=%d --state-dir=DIR down stops it)", 6443+instance, instance)
	}
	tmp, err := os.MkdirTemp("", "arl-e2erealnode-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(tmp)
	arlLocal = filepath.Join(tmp, "arl-local")
	build := exec.Command("go", "build", "-o", arlLocal, "./cmd/arl-local")
	build.Dir = filepath.Join(repo, "tools")
	build.Env = append(os.Environ(), "GOWORK=off")
	if out, err := build.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("build arl-local: %w\n%s", err, out)
	}
	stateDir = filepath.Join(tmp, "state")
	code := m.Run()
	if out, err := exec.Command(arlLocal, "--repo="+repo, "--state-dir="+stateDir, fmt.Sprintf("--instance=%d", instance), "down").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "final down: %v\n%s", err, out)
	}
	return code, nil
}

// arl runs arl-local against the test's state directory.
func arl(t *testing.T, timeout time.Duration, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	full := append([]string{"--repo=" + repo, "--state-dir=" + stateDir, fmt.Sprintf("--instance=%d", instance)}, args...)
	cmd := exec.CommandContext(ctx, arlLocal, full...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("arl-local %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	return out.String()
}

// kubectl runs the bin/kubectl built with the cluster.
func kubectl(t *testing.T, args ...string) string {
	t.Helper()
	out, err := kubectlErr(args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func kubectlErr(args ...string) (string, error) {
	cmd := exec.Command(filepath.Join(repo, "bin", "kubectl"), args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+filepath.Join(stateDir, "kubeconfig"))
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// ctr runs containerd's ctr against the real node's containerd.
func ctr(t *testing.T, args ...string) string {
	t.Helper()
	sock := filepath.Join(stateDir, "realnode", "containerd", "containerd.sock")
	cmd := exec.Command(filepath.Join(repo, "bin", "ctr"), append([]string{"--address", sock, "--namespace", "k8s.io"}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("ctr %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func eventually(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	last := ""
	for time.Now().Before(deadline) {
		ok, state := cond()
		if ok {
			return
		}
		last = state
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s: not within %s; last: %s", what, timeout, last)
}
