// Command arl-local runs ARL's local cluster: a real control plane and a
// node running pods as processes, with no Docker and no network.
//
//	arl-local up                  build what is missing, start, wait until Ready, install the operator
//	arl-local up --sim-nodes N    the same plus N simulated (kwok) nodes, for scale runs
//	arl-local build               only build what up needs
//	arl-local down [--purge]      stop everything, clean up the node
//	arl-local status              components, pids, memory and health
//	arl-local env                 export lines for KUBECONFIG and PATH
//	arl-local envtest-assets DIR  etcd/kube-apiserver links for KUBEBUILDER_ASSETS
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/arl-infra/arl/tools/internal/build"
	"github.com/arl-infra/arl/tools/internal/cluster"
)

const usage = `usage: arl-local [flags] COMMAND

commands:
  up [--no-operator] [--node=process|kubelet|both]
                      build what is missing, start the cluster, wait until the node is Ready,
                      install the operator (operator/config/default) and wait until it is available;
                      --node=kubelet adds a real node (kubelet, containerd, runc) instead of the
                      process node, --node=both runs the two
      [--sim-nodes N] [--sim-pods-per-node P]
                      also run kwok with N simulated nodes of P pods each (label type=kwok, taint
                      kwok.x-k8s.io/node=fake:NoSchedule); pods there become Running and Ready
                      without processes (no sidecar answers: no Tasks). 0 removes them; the count
                      is remembered by later ups
  build [--node=...]  build the binaries up needs, start nothing
  down [--purge]      stop every component and clean up the node (--purge also deletes the state)
  status              list components with pid, memory and health (exit 1 if unhealthy)
  env                 print the export lines for KUBECONFIG and PATH
  envtest-assets DIR  create DIR with etcd and kube-apiserver links for KUBEBUILDER_ASSETS

flags:
`

func main() {
	fs := flag.NewFlagSet("arl-local", flag.ExitOnError)
	repo := fs.String("repo", "", "repository root (default: found from the working directory, or $ARL_REPO_ROOT)")
	state := fs.String("state-dir", os.Getenv("ARL_STATE_DIR"), "state directory (default <repo>/.state/local, or $ARL_STATE_DIR)")
	cache := fs.String("cache-dir", "", "binary cache directory (default $ARL_CACHE_DIR, /var/cache/arl or ~/.cache/arl)")
	instance := fs.Int("instance", envInt("ARL_LOCAL_INSTANCE", -1), "cluster instance: 0 is bridge arl0, pods 10.244.0.0/24, apiserver :6443; N shifts ports and uses arlN, 10.244.N.0/24 (default: as recorded in the state dir, else 0; or $ARL_LOCAL_INSTANCE)")
	fs.Usage = func() { fmt.Fprint(os.Stderr, usage); fs.PrintDefaults() }
	_ = fs.Parse(os.Args[1:])
	if fs.NArg() == 0 {
		fs.Usage()
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *repo, *state, *cache, *instance, fs.Arg(0), fs.Args()[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "arl-local %s: %v\n", fs.Arg(0), err)
		os.Exit(1)
	}
}

func run(ctx context.Context, repo, state, cache string, instance int, command string, args []string) error {
	layout, err := resolveLayout(repo, state, cache, instance)
	if err != nil {
		return err
	}
	switch command {
	case "up":
		fs := flag.NewFlagSet("up", flag.ExitOnError)
		rebuild := fs.Bool("rebuild", false, "rebuild arl-node, arl-sidecar and arl-operator even if they look current")
		timeout := fs.Duration("timeout", 60*time.Second, "how long each component may take to become healthy")
		noOperator := fs.Bool("no-operator", false, "do not install the operator (operator/config/default): the bare cluster only")
		node := fs.String("node", "process", "the node: process (pods as host processes), kubelet (kubelet + containerd + runc, pods from images) or both")
		simNodes := fs.Int("sim-nodes", -1, "run this many simulated kwok nodes (0 removes them; default: as recorded in the state dir)")
		simPods := fs.Int("sim-pods-per-node", cluster.DefaultSimPods, "pods each simulated node holds")
		_ = fs.Parse(args)
		kind, err := cluster.ParseNodeKind(*node)
		if err != nil {
			return err
		}
		return cluster.Up(ctx, cluster.UpOptions{Layout: layout, Out: os.Stdout, Rebuild: *rebuild, Timeout: *timeout, NoOperator: *noOperator, Node: kind,
			SimNodes: *simNodes, SimPodsPerNode: *simPods})
	case "build":
		fs := flag.NewFlagSet("build", flag.ExitOnError)
		rebuild := fs.Bool("rebuild", false, "rebuild arl-node, arl-sidecar and arl-operator even if they look current")
		node := fs.String("node", "process", "which node's binaries to build: process, kubelet or both")
		_ = fs.Parse(args)
		kind, err := cluster.ParseNodeKind(*node)
		if err != nil {
			return err
		}
		if err := cluster.Build(ctx, layout, os.Stdout, *rebuild); err != nil {
			return err
		}
		if kind.Kubelet() {
			return cluster.BuildRealNode(ctx, layout, os.Stdout)
		}
		return nil
	case "down":
		fs := flag.NewFlagSet("down", flag.ExitOnError)
		purge := fs.Bool("purge", false, "also delete the state directory (certificates, etcd data, logs)")
		grace := fs.Duration("grace", 10*time.Second, "time between SIGTERM and SIGKILL per component")
		_ = fs.Parse(args)
		return cluster.Down(ctx, cluster.DownOptions{Layout: layout, Out: os.Stdout, Purge: *purge, Grace: *grace})
	case "status":
		if !cluster.Status(ctx, layout, os.Stdout) {
			os.Exit(1)
		}
		return nil
	case "env":
		fmt.Print(cluster.EnvLines(layout))
		return nil
	case "envtest-assets":
		if len(args) != 1 {
			return fmt.Errorf("usage: arl-local envtest-assets DIR")
		}
		return cluster.EnvtestAssets(ctx, layout, args[0], os.Stdout)
	default:
		return fmt.Errorf("unknown command %q (want up, build, down, status, env or envtest-assets)", command)
	}
}

func resolveLayout(repo, state, cache string, instance int) (cluster.Layout, error) {
	var err error
	if repo == "" {
		if repo, err = cluster.FindRepo(); err != nil {
			return cluster.Layout{}, err
		}
	}
	if cache == "" {
		cache = build.DefaultCacheDir()
	}
	if state == "" {
		state = cluster.DefaultState(repo)
	}
	if instance < 0 {
		instance = max(cluster.RecordedInstance(state), 0)
	}
	if instance > 200 {
		return cluster.Layout{}, fmt.Errorf("--instance %d: want 0 to 200", instance)
	}
	return cluster.NewLayout(repo, state, cache, instance), nil
}

func envInt(name string, def int) int {
	if v := os.Getenv(name); v != "" {
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
	}
	return def
}
