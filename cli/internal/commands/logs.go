package commands

import (
	"fmt"
	"io"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/arl-infra/arl/cli/internal/sandbox"
	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

func newLogsCmd(o *Options) *cobra.Command {
	var follow bool
	var tail int64
	var container string
	cmd := &cobra.Command{
		Use:   "logs SANDBOX [-f] [--tail N]",
		Short: "Print the logs of the sandbox pod's executor container",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ns, err := o.Namespace()
			if err != nil {
				return err
			}
			cl, err := o.Kube.Client()
			if err != nil {
				return err
			}
			sb, err := sandbox.Get(cmd.Context(), cl, ns, args[0])
			if err != nil {
				return err
			}
			if sb.Status.PodName == "" {
				return sandbox.CheckReady(sb)
			}
			core, err := o.Kube.CoreREST()
			if err != nil {
				return err
			}
			req := core.Get().Namespace(ns).Resource("pods").Name(sb.Status.PodName).SubResource("log").
				Param("container", container)
			if follow {
				req = req.Param("follow", "true")
			}
			if tail >= 0 {
				req = req.Param("tailLines", strconv.FormatInt(tail, 10))
			}
			rc, err := req.Stream(cmd.Context())
			if err != nil {
				return fmt.Errorf("reading the logs of pod %s (sandbox %s): %w", sb.Status.PodName, sb.Name, err)
			}
			defer rc.Close()
			_, err = io.Copy(o.IO.Out, rc)
			if err != nil && cmd.Context().Err() == nil {
				return fmt.Errorf("streaming logs: %w", err)
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep streaming new lines")
	cmd.Flags().Int64Var(&tail, "tail", -1, "only the last N lines")
	cmd.Flags().StringVarP(&container, "container", "c", arlv1.ExecutorContainerName, "container (executor or sidecar)")
	return cmd
}
