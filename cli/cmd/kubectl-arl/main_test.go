package main

import (
	"os/exec"
	"strings"
	"testing"
)

// heavy are the module path prefixes the lean front must not link: each
// costs every `kubectl arl` start milliseconds of page faults and package
// init (docs/performance.md, "kubectl arl exec").
var heavy = []string{
	"k8s.io/", "sigs.k8s.io/", "github.com/spf13/cobra", "github.com/modelcontextprotocol/",
	"google.golang.org/protobuf/", "connectrpc.com/", "golang.org/x/net/http2",
	"github.com/arl-infra/arl/proto/", "github.com/arl-infra/arl/cli/internal/sidecarrpc",
}

func TestTheFrontLinksNoHeavyPackage(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("this test lists the front's dependencies with the go command: install Go (%v)", err)
	}
	out, err := exec.Command(goTool, "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list -deps listed only %q", deps)
	}
	for _, d := range deps {
		for _, h := range heavy {
			if strings.HasPrefix(d, h) {
				t.Errorf("kubectl-arl links %s (prefix %s): keep it out of the fast path, or hand such commands to the full CLI", d, h)
			}
		}
	}
}
