//go:build e2erealnode

package e2erealnode

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/arl-infra/arl/tools/internal/e2ecluster"
)

// instance 3: beside the developer's cluster (0), e2elocal's (1) and the
// e2e suites' (2).
const (
	instance = 3
	bridge   = "arlk3"
	nodeName = "arl-kubelet"
)

// cluster is the suite's cluster: e2ecluster.Main fills it in.
var cluster = &e2ecluster.Cluster{Instance: instance}

func TestMain(m *testing.M) {
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "e2erealnode: the real node needs root (containerd, runc, cgroups, network namespaces)")
		os.Exit(1)
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
