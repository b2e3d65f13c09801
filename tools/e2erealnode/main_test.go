//go:build e2erealnode

package e2erealnode

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/arl-infra/arl/tools/internal/e2ecluster"
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

// cluster is the suite's cluster: e2ecluster.Main fills it in.
var cluster = &e2ecluster.Cluster{Instance: instance}

func TestMain(m *testing.M) {
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "e2erealnode: the real node needs root (containerd, runc, cgroups, network namespaces)")
		os.Exit(1)
	}
	if v := os.Getenv("ARL_E2EREALNODE_INSTANCE"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 200 {
			fmt.Fprintf(os.Stderr, "e2erealnode: ARL_E2EREALNODE_INSTANCE=%q: want a cluster instance number (0-200)\n", v)
			os.Exit(1)
		}
		instance, cluster.Instance = n, n
		bridge, processBridge = fmt.Sprintf("arlk%d", n), fmt.Sprintf("arl%d", n)
	}
	e2ecluster.Main(m, "e2erealnode", cluster)
}

// ctr runs containerd's ctr against the real node's containerd.
func ctr(t *testing.T, args ...string) string {
	t.Helper()
	sock := filepath.Join(cluster.StateDir, "realnode", "containerd", "containerd.sock")
	cmd := exec.Command(cluster.Bin("ctr"), append([]string{"--address", sock, "--namespace", "k8s.io"}, args...)...)
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
