package commands

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/arl-infra/arl/cli/internal/tasks"
	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

func newRunCmd(o *Options) *cobra.Command {
	var file, output string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "run SANDBOX -f steps.yaml",
		Short: "Run steps as a Task in a sandbox, wait, and print its stdout (stderr to stderr)",
		Long: `Creates a Task with the steps of the file (a Task's spec.steps, under
"steps:", with optional "timeout:" and "retries:"), waits until it has
finished, prints its stdout and stderr as the manual's
kubectl get task -o jsonpath='{.status.stdout}' does, and exits with its
exit code. -o json|yaml prints the finished Task instead.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if file == "" {
				return fmt.Errorf("-f steps.yaml is required")
			}
			var data []byte
			var err error
			if file == "-" {
				data, err = io.ReadAll(o.IO.In)
			} else {
				data, err = os.ReadFile(file)
			}
			if err != nil {
				return fmt.Errorf("reading %s: %w", file, err)
			}
			f, err := tasks.Parse(data)
			if err != nil {
				return fmt.Errorf("%s: %w", file, err)
			}
			ns, err := o.Namespace()
			if err != nil {
				return err
			}
			cl, err := o.Kube.Client()
			if err != nil {
				return err
			}
			task, err := tasks.Build(ns, args[0], f)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			spin := startSpinner(o.IO.ErrOut, "running task in sandbox/"+args[0])
			done, err := tasks.Run(ctx, cl, task)
			spin.Stop()
			if err != nil {
				if task.Name != "" {
					return fmt.Errorf("%w (task/%s)", err, task.Name)
				}
				return err
			}
			if output != "" {
				objs, err := metaItems(&arlv1.TaskList{Items: []arlv1.Task{*done}})
				if err != nil {
					return err
				}
				if err := printObjs(o.IO.Out, output, objs); err != nil {
					return err
				}
			} else {
				fmt.Fprint(o.IO.Out, done.Status.Stdout)
				fmt.Fprint(o.IO.ErrOut, done.Status.Stderr)
			}
			if done.Status.State != arlv1.TaskStateSucceeded {
				fmt.Fprintf(o.IO.ErrOut, "task/%s %s: %s %s\n", done.Name, done.Status.State, done.Status.Reason, done.Status.Message)
				if done.Status.ExitCode != nil && *done.Status.ExitCode > 0 && *done.Status.ExitCode < 256 {
					return &ExitError{Code: int(*done.Status.ExitCode)}
				}
				return &ExitError{Code: 1}
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&file, "filename", "f", "", "the steps file (- for stdin)")
	cmd.Flags().StringVarP(&output, "output", "o", "", "print the finished Task as json or yaml")
	cmd.Flags().DurationVar(&timeout, "timeout", 10*time.Minute, "how long to wait for the task")
	return cmd
}
