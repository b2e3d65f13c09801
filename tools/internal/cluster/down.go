package cluster

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"time"

	"github.com/arl-infra/arl/tools/internal/proc"
)

// DownOptions configures Down.
type DownOptions struct {
	Layout Layout
	Out    io.Writer
	Grace  time.Duration // between SIGTERM and SIGKILL, per component
	Purge  bool          // also delete the state directory (certificates, etcd data)
}

// Down stops every component, node first so it can end its pods, then
// runs the node's cleanup of namespaces, mounts and the bridge.
func Down(ctx context.Context, opts DownOptions) error {
	l, r := opts.Layout, newReporter(opts.Out)
	if opts.Grace == 0 {
		opts.Grace = 10 * time.Second
	}
	if _, err := os.Stat(l.State); os.IsNotExist(err) {
		fmt.Fprintf(opts.Out, "nothing to stop: no state directory %s\n", l.State)
		return nil
	}
	unlock, err := lockState(l, true)
	if err != nil {
		return err
	}
	defer unlock()

	comps := slices.Clone(Components(l))
	slices.Reverse(comps)
	var errs []error
	if err := downRealNode(ctx, l, r, opts.Grace); err != nil { // before the apiserver stops
		errs = append(errs, err)
	}
	for _, comp := range comps {
		pidPath := l.File(comp.Name + ".pid")
		pid, wasRunning := proc.Running(pidPath)
		if err := proc.Stop(pidPath, opts.Grace); err != nil {
			errs = append(errs, fmt.Errorf("stop %s: %w", comp.Name, err))
			continue
		}
		if wasRunning {
			r.Printf("%s: stopped (pid %d)", comp.Name, pid)
		}
		if comp.Name == "arl-node" {
			if err := nodeCleanup(ctx, l, r); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("down: %v", errs)
	}
	if opts.Purge {
		if err := os.RemoveAll(l.State); err != nil {
			return fmt.Errorf("purge %s: %w", l.State, err)
		}
		r.Printf("state directory %s removed", l.State)
	}
	r.Printf("local cluster stopped")
	return nil
}

// nodeCleanup runs `arl-node cleanup`, which removes the pods' network
// namespaces, mounts, processes and the bridge even after a crash.
//
// The bridge is machine-wide per instance, so cleanup is skipped when this
// state directory never ran a node, or when another cluster of the same
// instance still serves the kubelet port (a stale state directory).
func nodeCleanup(ctx context.Context, l Layout, r *reporter) error {
	bin := l.BinPath("arl-node")
	if !exists(bin) || !exists(l.NodeState()) {
		return nil
	}
	if err := portFree(l.Net.KubeletPort); err != nil {
		r.Printf("warning: arl-node cleanup skipped: another cluster of instance %d runs (%v); bridge %s is its", l.Net.Instance, err, l.Net.Bridge)
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "cleanup", "--state-dir="+l.NodeState(), "--bridge="+l.Net.Bridge).CombinedOutput()
	if err != nil {
		return fmt.Errorf("arl-node cleanup: %w\n%s", err, out)
	}
	r.Printf("arl-node cleanup: done")
	return nil
}
