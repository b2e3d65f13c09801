// arl is the full ARL command line: every `kubectl arl` command, and `arl
// mcp` (the MCP server). Users run it through the kubectl plugin,
// kubectl-arl (cmd/kubectl-arl), a lean front that runs a cached `exec` by
// itself and hands every other command line to this binary; it works on
// its own too (`arl sandboxes`).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/arl-infra/arl/cli/internal/commands"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := commands.Execute(ctx, os.Args[1:], genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr})
	stop()
	os.Exit(code)
}
