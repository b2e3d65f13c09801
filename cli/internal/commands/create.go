package commands

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/arl-infra/arl/cli/internal/sandbox"
	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

func newCreateCmd(o *Options) *cobra.Command {
	var pool, output string
	var wait, oneShot bool
	var idle int32
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "create SANDBOX --pool POOL [--wait]",
		Short: "Create a sandbox from a pool (keepAlive unless --one-shot)",
		Example: `  kubectl arl create my-workspace --pool python-pool --wait
  kubectl arl create scratch --pool python-pool --idle-timeout 600`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if pool == "" {
				return fmt.Errorf("--pool is required (list pools with `kubectl arl pools`)")
			}
			ns, err := o.Namespace()
			if err != nil {
				return err
			}
			cl, err := o.Kube.Client()
			if err != nil {
				return err
			}
			sb := &arlv1.Sandbox{
				ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: args[0]},
				Spec:       arlv1.SandboxSpec{PoolRef: pool, KeepAlive: !oneShot},
			}
			if idle > 0 {
				sb.Spec.IdleTimeoutSeconds = &idle
			}
			o.dropCached(args[0]) // an older sandbox of this name is gone
			if err := cl.Create(cmd.Context(), sb); err != nil {
				return fmt.Errorf("creating sandbox %s/%s: %w", ns, args[0], err)
			}
			if wait {
				ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
				defer cancel()
				spin := startSpinner(o.IO.ErrOut, "waiting for sandbox/"+args[0]+" to be Ready")
				ready, err := sandbox.WaitReady(ctx, cl, ns, args[0])
				spin.Stop()
				if err != nil {
					return err
				}
				sb = ready
			}
			if output != "" {
				objs, err := metaItems(&arlv1.SandboxList{Items: []arlv1.Sandbox{*sb}})
				if err != nil {
					return err
				}
				return printObjs(o.IO.Out, output, objs)
			}
			if wait {
				fmt.Fprintf(o.IO.Out, "sandbox/%s created and Ready (pod %s, IP %s)\n", sb.Name, sb.Status.PodName, sb.Status.PodIP)
			} else {
				fmt.Fprintf(o.IO.Out, "sandbox/%s created\n", sb.Name)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&pool, "pool", "", "the WarmPool to take a pod from (required)")
	cmd.Flags().BoolVar(&wait, "wait", false, "wait until the sandbox is Ready")
	cmd.Flags().DurationVar(&timeout, "timeout", 2*time.Minute, "how long --wait waits")
	cmd.Flags().BoolVar(&oneShot, "one-shot", false, "keepAlive=false: the sandbox is deleted after its first task")
	cmd.Flags().Int32Var(&idle, "idle-timeout", 0, "idleTimeoutSeconds: delete the sandbox after this many idle seconds (0: never)")
	cmd.Flags().StringVarP(&output, "output", "o", "", "print the sandbox as json, yaml or name")
	return cmd
}

func newDeleteCmd(o *Options) *cobra.Command {
	var wait, ignoreNotFound bool
	cmd := &cobra.Command{
		Use:   "delete SANDBOX...",
		Short: "Delete sandboxes (their pods go; the pool makes fresh ones)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ns, err := o.Namespace()
			if err != nil {
				return err
			}
			cl, err := o.Kube.Client()
			if err != nil {
				return err
			}
			for _, name := range args {
				o.dropCached(name)
				err := sandbox.Delete(cmd.Context(), cl, ns, name, wait)
				if _, missing := err.(*sandbox.NotFoundError); missing && ignoreNotFound {
					continue
				}
				if err != nil {
					return err
				}
				fmt.Fprintf(o.IO.Out, "sandbox/%s deleted\n", name)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&wait, "wait", true, "wait until the sandbox object is gone")
	cmd.Flags().BoolVar(&ignoreNotFound, "ignore-not-found", false, "treat a missing sandbox as deleted")
	return cmd
}
