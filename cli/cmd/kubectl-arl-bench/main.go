// kubectl-arl-bench measures what `kubectl arl exec SANDBOX -- true` costs
// over the SDK's direct exec (a Connect Execute on an open connection to the
// sandbox's sidecar, as SandboxSession.sidecar.execute does), and prints a
// table of medians and p99s. The plugin's goal: at most 5 ms more.
//
//	go run ./cmd/kubectl-arl-bench [-pool python-pool] [-n 100]
//
// Needs a cluster with the ARL operator and the pool (KUBECONFIG); builds
// kubectl-arl itself unless -plugin names one.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"connectrpc.com/connect"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/arl-infra/arl/cli/internal/kube"
	"github.com/arl-infra/arl/cli/internal/sandbox"
	"github.com/arl-infra/arl/cli/internal/transport"
	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
	sidecarv1 "github.com/arl-infra/arl/proto/gen/arl/sidecar/v1"
)

func main() {
	pool := flag.String("pool", "python-pool", "WarmPool to take the sandbox from")
	runs := flag.Int("n", 100, "runs per row")
	plugin := flag.String("plugin", "", "kubectl-arl binary (default: build one)")
	python := flag.String("python", "python3", "Python with arl_client for the Python SDK row ('' to skip)")
	flag.Parse()
	if err := run(*pool, *runs, *plugin, *python); err != nil {
		fmt.Fprintln(os.Stderr, "kubectl-arl-bench:", err)
		os.Exit(1)
	}
}

func run(pool string, runs int, plugin, python string) error {
	ctx := context.Background()
	if plugin == "" {
		dir, err := os.MkdirTemp("", "arl-bench")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		plugin = filepath.Join(dir, "kubectl-arl")
		build := exec.Command("go", "build", "-o", plugin, "./cmd/kubectl-arl")
		if out, err := build.CombinedOutput(); err != nil {
			return fmt.Errorf("building kubectl-arl (run from cli/): %v\n%s", err, out)
		}
	}
	k := kube.NewClients(genericclioptions.NewConfigFlags(true))
	cl, err := k.Client()
	if err != nil {
		return err
	}
	ns, err := k.Namespace()
	if err != nil {
		return err
	}
	sb := &arlv1.Sandbox{ObjectMeta: metav1.ObjectMeta{Namespace: ns, GenerateName: "arl-bench-"},
		Spec: arlv1.SandboxSpec{PoolRef: pool, KeepAlive: true}}
	if err := cl.Create(ctx, sb); err != nil {
		return fmt.Errorf("creating a sandbox in pool %s: %w", pool, err)
	}
	defer func() { _ = sandbox.Delete(context.Background(), cl, ns, sb.Name, true) }()
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if _, err := sandbox.WaitReady(wctx, cl, ns, sb.Name); err != nil {
		return err
	}
	conn, err := sandbox.Dial(ctx, k, transport.Direct, ns, sb.Name)
	if err != nil {
		return err
	}
	defer conn.Close()

	fmt.Printf("sandbox %s (pool %s), %d runs per row, after 5 warm-up runs\n\n", sb.Name, pool, runs)
	fmt.Printf("%-52s %9s %9s %9s\n", "path", "p50 ms", "p99 ms", "mean ms")
	direct, err := measure(runs, func() error {
		resp, err := conn.Client.Execute(ctx, connect.NewRequest(&sidecarv1.ExecuteRequest{Command: []string{"true"}}))
		if err == nil && resp.Msg.ExitCode != 0 {
			err = fmt.Errorf("true exited %d", resp.Msg.ExitCode)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("direct exec: %w", err)
	}
	row("SDK direct exec (Go Connect client, open connection)", direct)
	var pyRow []float64
	if python != "" {
		pyRow, err = pythonSDK(python, conn.Target.Sandbox.Status.PodIP, conn.Target.Token, runs)
		if err != nil {
			fmt.Printf("%-52s %s\n", "Python SDK sidecar.execute", "skipped: "+err.Error())
		} else {
			row("Python SDK SidecarClient.execute (open connection)", pyRow)
		}
	}
	for _, c := range []struct {
		label string
		args  []string
	}{
		{"kubectl arl exec SANDBOX -- true (whole process)", []string{"exec", sb.Name, "--", "true"}},
		{"kubectl arl exec --connect=direct (whole process)", []string{"exec", "--connect=direct", sb.Name, "--", "true"}},
	} {
		samples, err := measure(runs, func() error {
			out, err := exec.Command(plugin, c.args...).CombinedOutput()
			if err != nil {
				return fmt.Errorf("%v: %s", err, out)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("kubectl arl exec: %w", err)
		}
		row(c.label, samples)
		fmt.Printf("%-52s %+9.2f\n", "  over the SDK's direct exec (p50)", pct(samples, 0.5)-pct(direct, 0.5))
		if pyRow != nil {
			fmt.Printf("%-52s %+9.2f\n", "  over the Python SDK's direct exec (p50)", pct(samples, 0.5)-pct(pyRow, 0.5))
		}
	}
	return nil
}

func measure(runs int, f func() error) ([]float64, error) {
	for range 5 {
		if err := f(); err != nil {
			return nil, err
		}
	}
	samples := make([]float64, 0, runs)
	for range runs {
		start := time.Now()
		if err := f(); err != nil {
			return nil, err
		}
		samples = append(samples, float64(time.Since(start).Microseconds())/1000)
	}
	slices.Sort(samples)
	return samples, nil
}

func pct(sorted []float64, q float64) float64 {
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func row(label string, s []float64) {
	sum := 0.0
	for _, v := range s {
		sum += v
	}
	fmt.Printf("%-52s %9.2f %9.2f %9.2f\n", label, pct(s, 0.5), pct(s, 0.99), sum/float64(len(s)))
}

// pythonScript times SidecarClient.execute(["true"]) and prints the sorted
// samples (ms) as JSON.
const pythonScript = `
import json, sys, time
from arl_client.sidecar import SidecarClient
url, token, runs = sys.argv[1], sys.argv[2] or None, int(sys.argv[3])
with SidecarClient(url, token=token) as c:
    for _ in range(5):
        c.execute(["true"])
    out = []
    for _ in range(runs):
        t = time.perf_counter(); c.execute(["true"]); out.append((time.perf_counter() - t) * 1000)
print(json.dumps(sorted(out)))
`

func pythonSDK(python, podIP, token string, runs int) ([]float64, error) {
	cmd := exec.Command(python, "-c", pythonScript, fmt.Sprintf("http://%s:%d", podIP, arlv1.SidecarHTTPPort), token, fmt.Sprint(runs))
	out, err := cmd.Output()
	if err != nil {
		msg := err.Error()
		if ee, ok := err.(*exec.ExitError); ok {
			lines := strings.Split(strings.TrimSpace(string(ee.Stderr)), "\n")
			msg = lines[len(lines)-1] + " (pip install -e sdk/python/arl-client)"
		}
		return nil, fmt.Errorf("%s", msg)
	}
	var samples []float64
	if err := json.Unmarshal(out, &samples); err != nil {
		return nil, err
	}
	return samples, nil
}
