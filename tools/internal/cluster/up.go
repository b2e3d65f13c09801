package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/arl-infra/arl/tools/internal/build"
	"github.com/arl-infra/arl/tools/internal/proc"
)

// UpOptions configures Up.
type UpOptions struct {
	Layout  Layout
	Out     io.Writer
	Rebuild bool // rebuild the non-cached binaries even if they look current
	// NoOperator skips installing the operator (CRDs, RBAC, webhooks,
	// Deployment): the bare cluster only.
	NoOperator bool
	Timeout    time.Duration // per component, to become healthy
	Node       NodeKind      // process (default), kubelet or both
	// SimNodes >= 0 runs that many kwok nodes (simnodes.go) of
	// SimPodsPerNode pods each; negative keeps what the state directory records.
	SimNodes       int
	SimPodsPerNode int
}

// Up builds what is missing, creates the certificates on first start,
// starts every component that is not running and waits until the cluster
// is usable.
func Up(ctx context.Context, opts UpOptions) error {
	l, r := opts.Layout, newReporter(opts.Out)
	if opts.Timeout == 0 {
		opts.Timeout = 60 * time.Second
	}
	unlock, err := lockState(l, false)
	if errors.Is(err, errLocked) {
		fmt.Fprintf(opts.Out, "another arl-local command is already working on %s; not starting a second cluster\n", l.State)
		return nil
	}
	if err != nil {
		return err
	}
	defer unlock()

	simChanged, err := applySimNodesOption(l, opts.SimNodes, opts.SimPodsPerNode)
	if err != nil {
		return err
	}
	if running(l, opts.Node) && !simChanged {
		fmt.Fprintf(opts.Out, "the local cluster is already running (state %s)\n", l.State)
		printUsage(opts.Out, l)
		return nil
	}
	r.Printf("local cluster: repo %s, state %s, apiserver %s, pods %s on %s", l.Repo, l.State, l.Net.APIServerURL(), l.Net.PodCIDR, l.Net.Bridge)
	if old := RecordedInstance(l.State); old >= 0 && old != l.Net.Instance {
		return fmt.Errorf("state %s belongs to instance %d, not %d: its certificates carry that instance's addresses (arl-local down --purge to start over)", l.State, old, l.Net.Instance)
	}
	if err := l.recordInstance(); err != nil {
		return err
	}
	b := &build.Builder{Repo: l.Repo, BinDir: l.Bin, CacheDir: l.Cache, Progress: r.Printf, Force: opts.Rebuild}
	// etcd and the apiserver need only arl-kube: the other binaries build
	// while they start, and the node starts once they are done.
	if err := ensure(ctx, b, r, build.ControlPlane); err != nil {
		return err
	}
	buildCtx, cancelBuild := context.WithCancel(ctx)
	others := make(chan error, 1)
	go func() { others <- ensureAll(buildCtx, b, r, targetsFor(l, opts.Node.targets(build.All[1:]))) }()
	waitBuilds := sync.OnceValue(func() error { return <-others })
	defer func() { cancelBuild(); _ = waitBuilds() }() // no go build outlives us
	generated, err := EnsurePKI(l)
	if err != nil {
		return fmt.Errorf("certificates: %w", err)
	}
	if generated {
		r.Printf("certificates, keys and kubeconfigs generated in %s", l.PKI(""))
	}
	c, err := newClient(l)
	if err != nil {
		return err
	}
	if err := startAndWait(ctx, l, r, opts.Timeout, c, waitBuilds, opts.Node); err != nil {
		return err
	}
	if err := writeRegistryFile(l); err != nil {
		return err
	}
	if opts.Node.Kubelet() {
		if err := upRealNode(ctx, l, r, opts.Timeout, c); err != nil {
			return err
		}
	}
	if err := WriteUserKubeconfig(l); err != nil {
		return err
	}
	if err := ensureSimNodes(ctx, l, r, c, opts.Timeout); err != nil {
		return err
	}
	if reason := operatorSkipReason(opts.Node); reason != "" && !opts.NoOperator {
		r.Printf("operator: skipped, %s", reason)
	} else if !opts.NoOperator && opts.Node == KubeletNode {
		if err := installOperatorFromImage(ctx, l, r, opts.Timeout); err != nil {
			return err
		}
	} else if !opts.NoOperator {
		if err := installOperator(ctx, l, r, opts.Timeout); err != nil {
			return err
		}
	}
	r.Printf("local cluster ready in %.1fs", r.elapsed().Seconds())
	printUsage(opts.Out, l)
	return nil
}

func ensureAll(ctx context.Context, b *build.Builder, r *reporter, targets []build.Target) error {
	for _, t := range targets {
		if err := ensure(ctx, b, r, t); err != nil {
			return err
		}
	}
	return nil
}

func ensure(ctx context.Context, b *build.Builder, r *reporter, t build.Target) error {
	start := time.Now()
	outcome, err := b.Ensure(ctx, t)
	if err != nil {
		return fmt.Errorf("build %s: %w", t.Name, err)
	}
	if outcome == build.Skipped {
		r.Printf("build %s: skipped, %s/%s does not exist yet", t.Name, t.Module, t.Package)
		return nil
	}
	r.Printf("build %s: %s (%.1fs)", t.Name, outcome, time.Since(start).Seconds())
	return nil
}

// startAndWait starts etcd and the apiserver one after the other (each
// needs the previous), then, once the other binaries are built, the
// controller manager, scheduler and node together, and waits for all.
func startAndWait(ctx context.Context, l Layout, r *reporter, timeout time.Duration, c *client, waitBuilds func() error, node NodeKind) error {
	comps := Components(l)
	checks := map[string]probe{
		"etcd":                    c.etcdHealthy,
		"kube-apiserver":          c.apiserverReady,
		"kube-controller-manager": c.controllerManagerHealthy,
		"kube-scheduler":          c.schedulerHealthy,
		"arl-node":                c.nodeReady,
		registryComponent:         c.registryHealthy,
		kwokComponentName:         c.kwokHealthy,
	}
	for _, comp := range comps[:2] {
		if err := start(l, r, comp); err != nil {
			return err
		}
		if err := wait(ctx, l, r, timeout, comp, checks[comp.Name]); err != nil {
			return err
		}
	}
	if err := waitBuilds(); err != nil {
		return err
	}
	var started []Component
	for _, comp := range Components(l)[2:] { // re-read: image-binary flags depend on what was built
		if comp.Name == NodeName && !node.Process() {
			continue
		}
		if comp.Name == NodeName && node.Kubelet() {
			// The process node's pods have no default route: give them
			// one to the kubelet node's pods, through the host.
			comp.Args = append(comp.Args, "--route="+l.Net.Real().PodCIDR)
		}
		if comp.Optional && !exists(l.BinPath(comp.Binary)) {
			r.Printf("warning: %s is not built (bin/%s missing): no node, pods will stay Pending", comp.Name, comp.Binary)
			continue
		}
		if err := start(l, r, comp); err != nil {
			return err
		}
		started = append(started, comp)
	}
	for _, comp := range started {
		if err := wait(ctx, l, r, timeout, comp, checks[comp.Name]); err != nil {
			return err
		}
	}
	if err := waitFor(ctx, timeout, c.defaultServiceAccount, nil); err != nil {
		return fmt.Errorf("default service account: %w", err)
	}
	r.Printf("default service account present: pods can be created")
	return nil
}

func start(l Layout, r *reporter, comp Component) error {
	pidPath := l.File(comp.Name + ".pid")
	if pid, ok := proc.Running(pidPath); ok {
		r.Printf("%s: already running (pid %d)", comp.Name, pid)
		return nil
	}
	if err := portFree(comp.Port); err != nil {
		return fmt.Errorf("start %s: %w: another local cluster (another state directory or checkout?) may run on instance %d; stop it, or pick another --instance", comp.Name, err, l.Net.Instance)
	}
	pid, err := proc.Start(proc.Spec{
		Path:    l.BinPath(comp.Binary),
		Args:    comp.Args,
		Env:     comp.Env,
		Dir:     l.State,
		LogPath: l.File(comp.Name + ".log"),
		PIDPath: pidPath,
	})
	if err != nil {
		return fmt.Errorf("start %s: %w", comp.Name, err)
	}
	r.Printf("%s: started (pid %d, log %s)", comp.Name, pid, l.File(comp.Name+".log"))
	return nil
}

func wait(ctx context.Context, l Layout, r *reporter, timeout time.Duration, comp Component, check probe) error {
	pidPath := l.File(comp.Name + ".pid")
	alive := func() bool { _, ok := proc.Running(pidPath); return ok }
	if err := waitFor(ctx, timeout, check, alive); err != nil {
		return fmt.Errorf("%s: %w\nlast lines of %s:\n%s", comp.Name, err, l.File(comp.Name+".log"), logTail(l.File(comp.Name+".log"), 25))
	}
	r.Printf("%s: healthy", comp.Name)
	return nil
}

// running is true when every component that can run is running.
func running(l Layout, node NodeKind) bool {
	if node.Kubelet() && !realRunning(l) {
		return false
	}
	for _, comp := range Components(l) {
		if comp.Name == NodeName && !node.Process() {
			continue
		}
		if comp.Optional && !exists(l.BinPath(comp.Binary)) {
			continue
		}
		if _, ok := proc.Running(l.File(comp.Name + ".pid")); !ok {
			return false
		}
	}
	return true
}

func printUsage(out io.Writer, l Layout) {
	fmt.Fprintf(out, "\nUse it with:\n")
	for _, line := range strings.SplitAfter(EnvLines(l), "\n") {
		if line != "" {
			fmt.Fprintf(out, "  %s", line)
		}
	}
	fmt.Fprintf(out, "  kubectl get nodes\n\nLogs and pids: %s   Stop: arl-local down\n", l.State)
}

// EnvLines are the shell lines that point kubectl at the local cluster.
func EnvLines(l Layout) string {
	return fmt.Sprintf("export KUBECONFIG=%s\nexport PATH=%s:$PATH\nexport ARL_REGISTRY=%s\n", l.Kubeconfig(), l.Bin, l.Net.RegistryAddr())
}

// portFree fails when something already listens on port.
func portFree(port int) error {
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return fmt.Errorf("port %d is in use", port)
	}
	return ln.Close()
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
