package cluster

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/arl-infra/arl/tools/internal/proc"
)

// Status prints each component with its pid and health. It returns false
// when a component that should run does not, or is unhealthy.
func Status(ctx context.Context, l Layout, out io.Writer) bool {
	c, err := newClient(l)
	if err != nil {
		fmt.Fprintf(out, "local cluster not initialised in %s: %v\n", l.State, err)
		return false
	}
	checks := map[string]probe{
		"etcd":                    c.etcdHealthy,
		"kube-apiserver":          c.apiserverReady,
		"kube-controller-manager": c.controllerManagerHealthy,
		"kube-scheduler":          c.schedulerHealthy,
		"arl-node":                c.nodeReady,
		registryComponent:         c.registryHealthy,
		kwokComponentName:         c.kwokHealthy,
	}
	healthy := true
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "COMPONENT\tPID\tRSS\tSTATE\tHEALTH")
	for _, comp := range Components(l) {
		pid, ok := proc.Running(l.File(comp.Name + ".pid"))
		switch {
		case !ok && comp.Optional && !exists(l.BinPath(comp.Binary)):
			fmt.Fprintf(tw, "%s\t-\t-\tnot built\t-\n", comp.Name)
		case !ok:
			healthy = false
			fmt.Fprintf(tw, "%s\t-\t-\tstopped\t-\n", comp.Name)
		default:
			health := "ok"
			if err := checks[comp.Name](ctx); err != nil {
				healthy = false
				health = err.Error()
			}
			rss := "?"
			if b, err := proc.RSS(pid); err == nil {
				rss = fmt.Sprintf("%dMB", b>>20)
			}
			fmt.Fprintf(tw, "%s\t%d\t%s\trunning\t%s\n", comp.Name, pid, rss, health)
		}
	}
	tw.Flush()
	fmt.Fprintf(out, "state: %s\nkubeconfig: %s\nregistry: %s (plain HTTP)\n", l.State, l.Kubeconfig(), l.Net.RegistryAddr())
	return healthy
}
