// kubectl-arl-bench measures what `kubectl arl exec SANDBOX -- true` costs
// over the SDK's direct exec (a Connect ExecuteStream on an open connection
// to the sandbox's sidecar), and prints tables of medians and p99s: the
// whole processes (endpoint cache warm, cold, off), then where the time of
// one process goes (package init, cache read, kubeconfig, API GETs, sidecar
// call). The plugin's goal: at most 5 ms more than the SDK, cache warm.
//
//	go run ./cmd/kubectl-arl-bench [-pool python-pool] [-n 100]
//
// Needs a cluster with the ARL operator and the pool (KUBECONFIG); builds
// kubectl-arl and arl itself unless -bin names a directory holding both.
// The endpoint cache is a temporary one, not the user's.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"connectrpc.com/connect"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/rest"

	"github.com/arl-infra/arl/cli/internal/endpointcache"
	"github.com/arl-infra/arl/cli/internal/execstream"
	"github.com/arl-infra/arl/cli/internal/kube"
	"github.com/arl-infra/arl/cli/internal/sandbox"
	"github.com/arl-infra/arl/cli/internal/sidecarrpc"
	"github.com/arl-infra/arl/cli/internal/transport"
	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
	sidecarv1 "github.com/arl-infra/arl/proto/gen/arl/sidecar/v1"
)

func main() {
	pool := flag.String("pool", "python-pool", "WarmPool to take the sandbox from")
	runs := flag.Int("n", 100, "runs per row")
	bin := flag.String("bin", "", "directory holding kubectl-arl and arl (default: build them)")
	python := flag.String("python", "python3", "Python with arl_client for the Python SDK row ('' to skip)")
	flag.Parse()
	if err := run(*pool, *runs, *bin, *python); err != nil {
		fmt.Fprintln(os.Stderr, "kubectl-arl-bench:", err)
		os.Exit(1)
	}
}

func run(pool string, runs int, bin, python string) error {
	ctx := context.Background()
	tmp, err := os.MkdirTemp("", "arl-bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if bin == "" {
		bin = tmp
		for _, name := range []string{"kubectl-arl", "arl"} {
			build := exec.Command("go", "build", "-o", filepath.Join(bin, name), "./cmd/"+name)
			if name == "kubectl-arl" {
				build.Env = append(os.Environ(), "CGO_ENABLED=0") // as make install-plugin: a static front starts faster
			}
			if out, err := build.CombinedOutput(); err != nil {
				return fmt.Errorf("building %s (run from cli/): %v\n%s", name, err, out)
			}
		}
	}
	front, full := filepath.Join(bin, "kubectl-arl"), filepath.Join(bin, "arl")
	// Every process of the run (and this one) uses a cache of its own.
	if err := os.Setenv("XDG_CACHE_HOME", filepath.Join(tmp, "cache")); err != nil {
		return err
	}
	if err := os.Unsetenv(endpointcache.DisableEnv); err != nil {
		return err
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
	trueReq := &sidecarv1.ExecuteStreamRequest{Command: []string{"true"}}
	execTrue := func(c *sandbox.Conn) error {
		res := sidecarrpc.StreamExec(ctx, c.Client, trueReq, os.Stdout, os.Stderr)
		if res.Err == nil && res.Code != 0 {
			res.Err = fmt.Errorf("true exited %d", res.Code)
		}
		return res.Err
	}
	key := endpointcache.Key{Sandbox: sb.Name}

	fmt.Printf("sandbox %s (pool %s), %d runs per row, after 5 warm-up runs; load average %s\n\n", sb.Name, pool, runs, loadavg())
	fmt.Printf("%-58s %9s %9s %9s\n", "whole exec of `true`", "p50 ms", "p99 ms", "mean ms")
	direct, err := measure(runs, nil, func() error {
		resp, err := conn.Client.Execute(ctx, connect.NewRequest(&sidecarv1.ExecuteRequest{Command: []string{"true"}}))
		if err == nil && resp.Msg.ExitCode != 0 {
			err = fmt.Errorf("true exited %d", resp.Msg.ExitCode)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("direct exec: %w", err)
	}
	row("SDK direct exec: Go Connect Execute, open connection", direct)
	stream, err := measure(runs, nil, func() error { return execTrue(conn) })
	if err != nil {
		return fmt.Errorf("direct exec: %w", err)
	}
	row("Go Connect ExecuteStream (plugin's RPC), open connection", stream)
	if python != "" {
		py, err := pythonSDK(python, conn.Target.Sandbox.Status.PodIP, conn.Target.Token, runs)
		if err != nil {
			fmt.Printf("%-58s %s\n", "Python SDK SidecarClient.execute", "skipped: "+err.Error())
		} else {
			row("Python SDK SidecarClient.execute (open connection)", py)
		}
	}
	spawn, err := measure(runs, nil, func() error { return exec.Command("/bin/true").Run() })
	if err != nil {
		return err
	}
	row("/bin/true as a process (fork+exec+wait floor)", spawn)
	for _, c := range []struct {
		label string
		env   []string
		setup func()
	}{
		{"kubectl arl exec SANDBOX -- true, cache warm", nil, nil},
		{"kubectl arl exec SANDBOX -- true, cache cold (1st call)", nil, func() { endpointcache.Drop(key) }},
		{"kubectl arl exec SANDBOX -- true, ARL_NO_CACHE=1", []string{endpointcache.DisableEnv + "=1"}, nil},
	} {
		samples, err := measure(runs, c.setup, func() error { return runPlugin(front, c.env, "exec", sb.Name, "--", "true") })
		if err != nil {
			return fmt.Errorf("kubectl arl exec: %w", err)
		}
		row(c.label, samples)
		fmt.Printf("%-58s %+9.2f\n", "  over the SDK's direct exec (p50)", pct(samples, 0.5)-pct(direct, 0.5))
	}

	fmt.Printf("\n%-58s %9s %9s %9s\n", "where one process's time goes", "p50 ms", "p99 ms", "mean ms")
	for _, b := range []struct{ label, path string }{
		{"package init, kubectl-arl (lean front)", front}, {"package init, arl (full CLI)", full},
	} {
		samples := make([]float64, 0, runs)
		for range runs {
			ms, err := initTime(b.path, sb.Name)
			if err != nil {
				return err
			}
			samples = append(samples, ms)
		}
		slices.Sort(samples)
		row(b.label, samples)
	}
	if err := runPlugin(front, nil, "exec", sb.Name, "--", "true"); err != nil { // the entry for the next row
		return err
	}
	phase(runs, "cache entry read (warm path)", func() error {
		if endpointcache.Load(key) == nil {
			return fmt.Errorf("no cache entry for %s", sb.Name)
		}
		return nil
	})
	phase(runs, "kubeconfig load + client build (cold path)", func() error {
		_, err := kube.NewClients(genericclioptions.NewConfigFlags(true)).Client()
		return err
	})
	cfg, err := k.Config()
	if err != nil {
		return err
	}
	rt, err := rest.TransportFor(cfg)
	if err != nil {
		return err
	}
	phase(runs, "GET Sandbox, new TLS connection (cold path)", func() error {
		utilnet.CloseIdleConnectionsFor(rt)
		_, err := sandbox.Get(ctx, cl, ns, sb.Name)
		return err
	})
	phase(runs, "GET token Secret, open connection (cold path)", func() error {
		_, err := sandbox.Token(ctx, cl, ns, conn.Target.Sandbox.Status.PodName)
		return err
	})
	sidecarAddr := net.JoinHostPort(conn.Target.Sandbox.Status.PodIP, strconv.Itoa(arlv1.SidecarHTTPPort))
	phase(runs, "dial + front's ExecuteStream (HTTP/1.1), new connection", func() error {
		c, err := net.DialTimeout("tcp", sidecarAddr, time.Second)
		if err != nil {
			return err
		}
		res := execstream.Call(ctx, c, sidecarAddr, conn.Target.Token, &execstream.Request{Command: []string{"true"}},
			nil, func(execstream.Output) error { return nil })
		if res.Err == nil && res.End.ExitCode != 0 {
			res.Err = fmt.Errorf("true exited %d", res.End.ExitCode)
		}
		return res.Err
	})
	phase(runs, "full CLI's dial + ExecuteStream (h2c), new connection", func() error {
		c, err := sandbox.Connect(ctx, k, transport.Direct, conn.Target)
		if err != nil {
			return err
		}
		defer c.Close()
		return execTrue(c)
	})
	return nil
}

// runPlugin runs kubectl-arl with extra environment and fails on a non-zero
// exit.
func runPlugin(path string, env []string, args ...string) error {
	cmd := exec.Command(path, args...)
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%v: %s", err, out)
	}
	return nil
}

var initLine = regexp.MustCompile(`^init \S+ @\S+ ms, ([0-9.]+) ms clock`)

// initTime is the sum of a binary's package init clocks (GODEBUG=inittrace=1)
// in one `exec SANDBOX -- true` (the front, cache warm: no hand-off) or
// `--help` (arl).
func initTime(path, name string) (float64, error) {
	args := []string{"exec", name, "--", "true"}
	if filepath.Base(path) == "arl" {
		args = []string{"--help"}
	}
	cmd := exec.Command(path, args...)
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("%s: %v: %s", path, err, stderr.String())
	}
	sum := 0.0
	for _, line := range strings.Split(stderr.String(), "\n") {
		if m := initLine.FindStringSubmatch(line); m != nil {
			v, _ := strconv.ParseFloat(m[1], 64)
			sum += v
		}
	}
	return sum, nil
}

func phase(runs int, label string, f func() error) {
	samples, err := measure(runs, nil, f)
	if err != nil {
		fmt.Printf("%-58s failed: %v\n", label, err)
		return
	}
	row(label, samples)
}

// measure times f runs times after 5 warm-up runs; setup (if any) runs
// untimed before each call.
func measure(runs int, setup func(), f func() error) ([]float64, error) {
	for range 5 {
		if setup != nil {
			setup()
		}
		if err := f(); err != nil {
			return nil, err
		}
	}
	samples := make([]float64, 0, runs)
	for range runs {
		if setup != nil {
			setup()
		}
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
	fmt.Printf("%-58s %9.2f %9.2f %9.2f\n", label, pct(s, 0.5), pct(s, 0.99), sum/float64(len(s)))
}

func loadavg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
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
