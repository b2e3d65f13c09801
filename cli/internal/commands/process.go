package commands

import (
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"connectrpc.com/connect"
	"github.com/spf13/cobra"
	"google.golang.org/protobuf/encoding/protojson"
	"sigs.k8s.io/yaml"

	"github.com/arl-infra/arl/cli/internal/sandbox"
	sidecarv1 "github.com/arl-infra/arl/proto/gen/arl/sidecar/v1"
)

func newPsCmd(o *Options) *cobra.Command {
	var all bool
	var output string
	cmd := &cobra.Command{
		Use:   "ps SANDBOX",
		Short: "List the processes the sandbox's sidecar started",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			conn, err := o.Dial(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			defer conn.Close()
			resp, err := conn.Client.ListProcesses(cmd.Context(), connect.NewRequest(&sidecarv1.ListProcessesRequest{IncludeDone: all}))
			if err != nil {
				return sandbox.Describe(args[0], err)
			}
			switch output {
			case "json", "yaml":
				js, err := protojson.MarshalOptions{UseProtoNames: true, Multiline: true, Indent: "  "}.Marshal(resp.Msg)
				if err != nil {
					return err
				}
				if output == "yaml" {
					if js, err = yaml.JSONToYAML(js); err != nil {
						return err
					}
				}
				_, err = fmt.Fprintln(o.IO.Out, strings.TrimSpace(string(js)))
				return err
			case "":
			default:
				return fmt.Errorf("unknown output format %q: use json or yaml", output)
			}
			w := tabwriter.NewWriter(o.IO.Out, 0, 8, 3, ' ', 0)
			fmt.Fprintln(w, "PID\tSTATE\tSTARTED\tCOMMAND")
			for _, p := range resp.Msg.Processes {
				state := "running"
				if p.Done {
					state = "exited " + strconv.Itoa(int(p.ExitCode))
					if p.Signal != "" {
						state = "killed " + p.Signal
					}
				}
				started := time.UnixMilli(p.StartedAtMs).Format(time.TimeOnly)
				fmt.Fprintf(w, "%d\t%s\t%s\t%s\n", p.Pid, state, started, strings.Join(p.Command, " "))
			}
			return w.Flush()
		},
	}
	cmd.Flags().BoolVarP(&all, "all", "a", false, "include processes that have exited")
	cmd.Flags().StringVarP(&output, "output", "o", "", "json or yaml")
	return cmd
}

func newKillCmd(o *Options) *cobra.Command {
	var signal string
	cmd := &cobra.Command{
		Use:   "kill SANDBOX PID [--signal S]",
		Short: "Send a signal (default SIGTERM) to a process of the sandbox and its group",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			pid, err := strconv.Atoi(args[1])
			if err != nil || pid <= 0 {
				return fmt.Errorf("PID %q: want a positive number (see `kubectl arl ps %s`)", args[1], args[0])
			}
			conn, err := o.Dial(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			defer conn.Close()
			resp, err := conn.Client.Signal(cmd.Context(), connect.NewRequest(&sidecarv1.SignalRequest{Pid: int32(pid), Signal: signal}))
			if err != nil {
				return sandbox.Describe(args[0], err)
			}
			if !resp.Msg.Success {
				return fmt.Errorf("signal %s to pid %d in sandbox %q failed: %s", signal, pid, args[0], resp.Msg.Message)
			}
			fmt.Fprintf(o.IO.Out, "sent %s to pid %d\n", signal, pid)
			return nil
		},
	}
	cmd.Flags().StringVar(&signal, "signal", "SIGTERM", "SIGTERM, SIGINT, SIGKILL, SIGHUP, SIGQUIT, SIGUSR1 or SIGUSR2")
	return cmd
}

func newResetCmd(o *Options) *cobra.Command {
	var keepFiles bool
	cmd := &cobra.Command{
		Use:   "reset SANDBOX [--keep-files]",
		Short: "End every process of the sandbox and empty its workspace (unless --keep-files)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			conn, err := o.Dial(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			defer conn.Close()
			resp, err := conn.Client.Reset(cmd.Context(), connect.NewRequest(&sidecarv1.ResetRequest{PreserveFiles: keepFiles}))
			if err != nil {
				return sandbox.Describe(args[0], err)
			}
			if !resp.Msg.Success {
				return fmt.Errorf("reset of sandbox %q failed: %s", args[0], resp.Msg.Message)
			}
			files := "workspace emptied"
			if keepFiles {
				files = "files kept"
			}
			fmt.Fprintf(o.IO.Out, "sandbox/%s reset: %d process(es) ended, %s\n", args[0], resp.Msg.ProcessesKilled, files)
			return nil
		},
	}
	cmd.Flags().BoolVar(&keepFiles, "keep-files", false, "keep the workspace's files")
	return cmd
}
