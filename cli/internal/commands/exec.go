package commands

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"connectrpc.com/connect"
	"github.com/spf13/cobra"

	"github.com/arl-infra/arl/cli/internal/sandbox"
	"github.com/arl-infra/arl/cli/internal/sidecarrpc"
	sidecarv1 "github.com/arl-infra/arl/proto/gen/arl/sidecar/v1"
)

func newExecCmd(o *Options) *cobra.Command {
	var envs []string
	var cwd string
	var timeout time.Duration
	var stdin, background bool
	cmd := &cobra.Command{
		Use:   "exec SANDBOX [--env K=V] [--cwd DIR] [--timeout T] -- COMMAND [ARG...]",
		Short: "Run a command in a sandbox, stream its output and exit with its exit code",
		Long: `Run a command in a sandbox's executor container. Its stdout and stderr
stream here as they come, and kubectl arl exits with the command's exit code
(128+N when signal N ended it, 124 when --timeout killed it). The command is
an argv: no shell is involved, so use sh -c '...' for pipes.`,
		Example: `  kubectl arl exec my-workspace -- python -V
  kubectl arl exec my-workspace --env DEBUG=1 --cwd /workspace/app -- sh -c 'ls | wc -l'
  echo 'print(6*7)' | kubectl arl exec my-workspace -i -- python`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.ArgsLenAtDash() != 1 {
				return errors.New("put the command after --: kubectl arl exec SANDBOX -- COMMAND [ARG...]")
			}
			env, err := parseEnv(envs)
			if err != nil {
				return err
			}
			req := &sidecarv1.ExecuteStreamRequest{Command: args[1:], WorkingDir: cwd, Env: env, TimeoutSeconds: seconds(timeout)}
			if stdin {
				if req.Stdin, err = io.ReadAll(o.IO.In); err != nil {
					return fmt.Errorf("reading stdin: %w", err)
				}
			}
			conn, err := o.Dial(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			defer conn.Close()
			if background {
				resp, err := conn.Client.Execute(cmd.Context(), connect.NewRequest(&sidecarv1.ExecuteRequest{
					Command: req.Command, WorkingDir: req.WorkingDir, Env: req.Env, Background: true,
					TimeoutSeconds: req.TimeoutSeconds, Stdin: req.Stdin}))
				if err != nil {
					return sandbox.Describe(args[0], err)
				}
				fmt.Fprintln(o.IO.Out, resp.Msg.Pid)
				return nil
			}
			res := sidecarrpc.StreamExec(cmd.Context(), conn.Client, req, o.IO.Out, o.IO.ErrOut)
			if res.Err != nil {
				return sandbox.Describe(args[0], res.Err)
			}
			return &ExitError{Code: res.Code}
		},
	}
	cmd.Flags().StringArrayVarP(&envs, "env", "e", nil, "environment variable K=V (repeatable)")
	cmd.Flags().StringVar(&cwd, "cwd", "", "working directory (default /workspace)")
	cmd.Flags().DurationVar(&timeout, "timeout", 0, "kill the command after this long (0: the sidecar's ceiling)")
	cmd.Flags().BoolVarP(&stdin, "stdin", "i", false, "send this command's stdin to the remote command")
	cmd.Flags().BoolVarP(&background, "background", "d", false, "start the command in the background and print its pid (see ps, kill)")
	return cmd
}

func parseEnv(kvs []string) (map[string]string, error) {
	if len(kvs) == 0 {
		return nil, nil
	}
	env := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--env %q: want KEY=VALUE", kv)
		}
		env[k] = v
	}
	return env, nil
}

// seconds rounds a timeout up to whole seconds (the sidecar's unit).
func seconds(d time.Duration) int32 {
	if d <= 0 {
		return 0
	}
	return int32(math.Ceil(d.Seconds()))
}
