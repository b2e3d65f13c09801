// Package commands holds the kubectl-arl command line: one file per command,
// wired into one cobra root.
package commands

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/arl-infra/arl/cli/internal/endpointcache"
	"github.com/arl-infra/arl/cli/internal/kube"
	"github.com/arl-infra/arl/cli/internal/sandbox"
	"github.com/arl-infra/arl/cli/internal/transport"
)

// Options are shared by every command of one invocation.
type Options struct {
	IO      genericiooptions.IOStreams
	Kube    *kube.Clients
	connect string
	noCache bool
	// globals are the root's persistent flags (what the cache key covers).
	globals *pflag.FlagSet
}

// Mode is the --connect flag, parsed.
func (o *Options) Mode() (transport.Mode, error) {
	if v := os.Getenv("ARL_CONNECT"); v != "" && o.connect == string(transport.Auto) {
		return transport.ParseMode(v)
	}
	return transport.ParseMode(o.connect)
}

// Namespace is -n or the context's namespace.
func (o *Options) Namespace() (string, error) { return o.Kube.Namespace() }

// Dial opens a Ready sandbox's sidecar in the current namespace.
func (o *Options) Dial(ctx context.Context, name string) (*sandbox.Conn, error) {
	mode, err := o.Mode()
	if err != nil {
		return nil, err
	}
	ns, err := o.Namespace()
	if err != nil {
		return nil, err
	}
	conn, err := sandbox.Dial(ctx, o.Kube, mode, ns, name)
	if err == nil {
		o.remember(conn)
	}
	return conn, err
}

// ExitError ends the program with Code and no further message (the command
// already said what happened, or the code is the remote command's own).
type ExitError struct{ Code int }

func (e *ExitError) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

// ExitCode maps an error from Execute to the process's exit code.
func ExitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	return 1
}

// NewRoot builds the kubectl-arl command tree.
func NewRoot(streams genericiooptions.IOStreams) *cobra.Command {
	root, _ := newRoot(streams)
	return root
}

func newRoot(streams genericiooptions.IOStreams) (*cobra.Command, *Options) {
	flags := genericclioptions.NewConfigFlags(true)
	o := &Options{IO: streams, Kube: kube.NewClients(flags)}
	root := &cobra.Command{
		Use:   "kubectl-arl",
		Short: "Work with ARL sandboxes: list, create, exec, copy files, open a shell, serve MCP",
		Long: `kubectl arl drives ARL sandboxes the way kubectl drives pods.

It finds a sandbox's pod and its sidecar token (from the pod's Secret, with
your RBAC) by itself, and talks to the sidecar directly when pod IPs are
routable from here, or through a port-forward over the API server when they
are not (--connect).`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.ErrOut)
	flags.AddFlags(root.PersistentFlags())
	root.PersistentFlags().StringVar(&o.connect, "connect", string(transport.Auto),
		"how to reach sidecars: auto (pod IP when routable, else port-forward), direct or port-forward (env ARL_CONNECT)")
	root.PersistentFlags().BoolVar(&o.noCache, "no-cache", false,
		"neither read nor write the sidecar endpoint cache (env "+endpointcache.DisableEnv+"=1; see docs/cli.md)")
	o.globals = root.PersistentFlags()
	root.AddCommand(
		newListCmd(o, "pools", "warmpools", "List WarmPools with kubectl's columns"),
		newListCmd(o, "sandboxes", "sandboxes", "List Sandboxes with kubectl's columns"),
		newListCmd(o, "tasks", "tasks", "List Tasks with kubectl's columns"),
		newCreateCmd(o), newDeleteCmd(o),
		newExecCmd(o), newRunCmd(o), newCpCmd(o), newShellCmd(o),
		newPsCmd(o), newKillCmd(o), newResetCmd(o), newLogsCmd(o),
		newMCPCmd(o),
	)
	return root, o
}

// Execute runs the command line and returns the exit code.
func Execute(ctx context.Context, args []string, streams genericiooptions.IOStreams) int {
	root := NewRoot(streams)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	var ee *ExitError
	if err != nil && !errors.As(err, &ee) {
		fmt.Fprintln(streams.ErrOut, "error:", err)
	}
	return ExitCode(err)
}
