// Command sidecar-bench measures Execute(["true"]) through the sidecar over
// gRPC, Connect JSON and REST against the floor: fork+exec of `true` from Go
// in the same process. It starts the sidecar in-process on loopback.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"text/tabwriter"
	"time"

	"connectrpc.com/connect"

	sidecarv1 "github.com/arl-infra/arl/proto/gen/arl/sidecar/v1"
	"github.com/arl-infra/arl/proto/gen/arl/sidecar/v1/sidecarv1connect"
	"github.com/arl-infra/arl/sidecar/internal/process"
	"github.com/arl-infra/arl/sidecar/internal/serve"
	"github.com/arl-infra/arl/sidecar/internal/server"
)

type mode struct {
	name string
	call func() error
}

func main() {
	n := flag.Int("n", 500, "calls per mode per run")
	runs := flag.Int("runs", 5, "runs; the table shows the median of the runs' percentiles")
	warmup := flag.Int("warmup", 50, "untimed calls per mode before the first run")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the timed runs to this file")
	binary := flag.String("binary", "", "bench a separate `arl-sidecar serve` process started from this binary instead of the in-process server")
	agent := flag.String("agent", "", "also bench Execute through an in-executor agent (as in a pool pod): `arl-sidecar agent` started from this binary")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "sidecar-bench:", err)
			os.Exit(1)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "sidecar-bench:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	if err := run(*n, *runs, *warmup, *binary, *agent); err != nil {
		fmt.Fprintln(os.Stderr, "sidecar-bench:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

func run(n, runs, warmup int, binary, agentBinary string) error {
	workspace, err := os.MkdirTemp("", "sidecar-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(workspace)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	sc, err := serve.New(serve.Config{Workspace: workspace, MaxOutputBytes: 1 << 20, MaxBodyBytes: 16 << 20, MaxForegroundTimeout: time.Minute, Logger: quiet})
	if err != nil {
		return err
	}
	defer sc.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	url := "http://" + l.Addr().String()
	where := "in-process server"
	if binary == "" {
		srv := server.NewHTTPServer(sc.Handler)
		go serveUntilClosed(srv, l)
		defer srv.Close()
	} else {
		addr := l.Addr().String()
		l.Close()
		stop, err := startBinary(binary, addr, workspace)
		if err != nil {
			return err
		}
		defer stop()
		where = "server process " + binary
	}

	var h2c http.Protocols
	h2c.SetUnencryptedHTTP2(true)
	h2cClient := &http.Client{Transport: &http.Transport{Protocols: &h2c}}
	h1Client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	grpcClient := sidecarv1connect.NewSidecarServiceClient(h2cClient, url, connect.WithGRPC())
	jsonClient := sidecarv1connect.NewSidecarServiceClient(h1Client, url, connect.WithProtoJSON())
	connectH2Client := sidecarv1connect.NewSidecarServiceClient(h2cClient, url)
	// The sidecar's own manager: a second one in this process would fight
	// over children with the first one's reaper.
	mgr := sc.Manager()

	ctx := context.Background()
	req := &sidecarv1.ExecuteRequest{Command: []string{"true"}}
	missing := &sidecarv1.ExecuteRequest{Command: []string{"arl-bench-no-such-command"}}
	restBody := []byte(`{"command": ["true"]}`)
	checkExit := func(code int32, err error) error {
		if err != nil {
			return err
		}
		if code != 0 {
			return fmt.Errorf("exit code %d", code)
		}
		return nil
	}
	keyed := 0
	modes := []mode{
		{"floor: exec.Command(\"true\").Run()", func() error { return exec.Command("true").Run() }},
		{"process manager, no RPC", func() error {
			p, err := mgr.Start(process.Spec{Argv: []string{"true"}, CallerWaits: true})
			if err != nil {
				return err
			}
			return checkExit(int32(p.Wait(ctx).ExitCode), nil)
		}},
		{"gRPC (h2c)", func() error {
			resp, err := grpcClient.Execute(ctx, connect.NewRequest(req))
			if err != nil {
				return err
			}
			return checkExit(resp.Msg.GetExitCode(), nil)
		}},
		{"Connect proto (h2c)", func() error {
			resp, err := connectH2Client.Execute(ctx, connect.NewRequest(req))
			if err != nil {
				return err
			}
			return checkExit(resp.Msg.GetExitCode(), nil)
		}},
		{"Connect JSON (HTTP/1.1)", func() error {
			resp, err := jsonClient.Execute(ctx, connect.NewRequest(req))
			if err != nil {
				return err
			}
			return checkExit(resp.Msg.GetExitCode(), nil)
		}},
		{"gRPC with an idempotency key", func() error {
			keyed++
			resp, err := grpcClient.Execute(ctx, connect.NewRequest(&sidecarv1.ExecuteRequest{Command: req.Command, IdempotencyKey: fmt.Sprint("bench/", keyed)}))
			if err != nil {
				return err
			}
			return checkExit(resp.Msg.GetExitCode(), nil)
		}},
		{"gRPC Health, no process (RPC cost)", func() error {
			_, err := grpcClient.Health(ctx, connect.NewRequest(&sidecarv1.HealthRequest{}))
			return err
		}},
		{"gRPC Execute of a missing command (no fork)", func() error {
			resp, err := grpcClient.Execute(ctx, connect.NewRequest(missing))
			if err != nil {
				return err
			}
			if resp.Msg.GetExitCode() != process.ExitNotFound {
				return fmt.Errorf("exit code %d, want 127", resp.Msg.GetExitCode())
			}
			return nil
		}},
		{"REST POST /execute (HTTP/1.1)", func() error {
			resp, err := h1Client.Post(url+"/execute", "application/json", bytes.NewReader(restBody))
			if err != nil {
				return err
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				return err
			}
			if resp.StatusCode != 200 || !bytes.Contains(body, []byte(`"exit_code":0`)) && !bytes.Contains(body, []byte(`"exit_code": 0`)) {
				return fmt.Errorf("REST status %d body %s", resp.StatusCode, body)
			}
			return nil
		}},
	}

	if agentBinary != "" {
		agentURL, stop, err := startAgentPair(agentBinary, workspace, quiet)
		if err != nil {
			return err
		}
		defer stop()
		viaAgent := sidecarv1connect.NewSidecarServiceClient(h2cClient, agentURL, connect.WithGRPC())
		modes = append(modes, mode{"gRPC through the agent (a pool pod's path)", func() error {
			resp, err := viaAgent.Execute(ctx, connect.NewRequest(req))
			if err != nil {
				return err
			}
			return checkExit(resp.Msg.GetExitCode(), nil)
		}})
	}

	for _, m := range modes {
		for range warmup {
			if err := m.call(); err != nil {
				return fmt.Errorf("%s: %w", m.name, err)
			}
		}
	}
	p50s := make([][]time.Duration, len(modes))
	p99s := make([][]time.Duration, len(modes))
	for range runs {
		samples := make([][]time.Duration, len(modes))
		// Interleave the modes call by call so machine noise hits all alike.
		for range n {
			for i, m := range modes {
				start := time.Now()
				if err := m.call(); err != nil {
					return fmt.Errorf("%s: %w", m.name, err)
				}
				samples[i] = append(samples[i], time.Since(start))
			}
		}
		for i := range modes {
			slices.Sort(samples[i])
			p50s[i] = append(p50s[i], percentile(samples[i], 0.50))
			p99s[i] = append(p99s[i], percentile(samples[i], 0.99))
		}
	}

	fmt.Printf("Execute([\"true\"]): %d calls per mode per run, %d runs, median of the runs' percentiles; RPCs to the %s\n\n", n, runs, where)
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "path\tp50 ms\tp99 ms\tp50 overhead over floor ms\tp50 per run ms\t")
	floor := median(p50s[0])
	for i, m := range modes {
		overhead := "-"
		if i > 0 {
			overhead = ms(median(p50s[i]) - floor)
		}
		perRun := ""
		for _, d := range p50s[i] {
			perRun += ms(d) + " "
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t\n", m.name, ms(median(p50s[i])), ms(median(p99s[i])), overhead, perRun)
	}
	w.Flush()
	return nil
}

func percentile(sorted []time.Duration, q float64) time.Duration {
	idx := int(float64(len(sorted)-1) * q)
	return sorted[idx]
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.3f", float64(d.Microseconds())/1000) }

// startBinary runs `arl-sidecar serve` on addr and waits for /health.
func startBinary(binary, addr, workspace string) (func(), error) {
	cmd := exec.Command(binary, "serve", "--http-addr="+addr, "--grpc-addr=", "--workspace="+workspace)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", binary, err)
	}
	stop := func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	}
	client := &http.Client{Timeout: time.Second}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if resp, err := client.Get("http://" + addr + "/health"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return stop, nil
			}
		}
	}
	stop()
	return nil, fmt.Errorf("%s serve on %s never became healthy", binary, addr)
}

// startAgentPair starts `arl-sidecar agent` as its own process and an
// in-process sidecar that forwards process calls to it over its socket.
func startAgentPair(binary, workspace string, log *slog.Logger) (string, func(), error) {
	socket := filepath.Join(workspace, "agent.sock")
	cmd := exec.Command(binary, "agent", "--socket="+socket, "--workspace="+workspace, "--", "sleep", "infinity")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("start %s agent: %w", binary, err)
	}
	stopAgent := func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	}
	sc, err := serve.New(serve.Config{Workspace: workspace, AgentSocket: socket, MaxOutputBytes: 1 << 20, MaxBodyBytes: 16 << 20, MaxForegroundTimeout: time.Minute, Logger: log})
	if err != nil {
		stopAgent()
		return "", nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		stopAgent()
		return "", nil, err
	}
	srv := server.NewHTTPServer(sc.Handler)
	go serveUntilClosed(srv, l)
	return "http://" + l.Addr().String(), func() { srv.Close(); sc.Close(); stopAgent() }, nil
}

// serveUntilClosed runs srv on l until it is closed; any other end is reported.
func serveUntilClosed(srv *http.Server, l net.Listener) {
	if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(os.Stderr, "sidecar-bench: serve:", err)
	}
}
