// kubectl-arl is the kubectl plugin for ARL sandboxes (`kubectl arl ...`).
//
// It is a lean front: it links no Kubernetes client, MCP SDK, cobra,
// protobuf runtime or connect-go (main_test.go keeps them out), so it
// starts in about a millisecond. `kubectl arl exec SANDBOX -- CMD` with a
// cached sidecar endpoint (internal/endpointcache) runs right here, with no
// API server round trip (internal/fastexec, internal/execstream). Every
// other command line, and an exec whose entry is missing or refused,
// replaces this process with the full CLI, `arl` (cmd/arl), installed next
// to this binary: same arguments, same pid, stdio and signals.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/arl-infra/arl/cli/internal/fastexec"
)

// fullEnv names the full CLI's binary when it is not next to this one.
const fullEnv = "ARL_CLI"

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	code, handled := fastexec.Run(ctx, os.Args[1:], os.Stdout, os.Stderr, func() { cancelOnSignals(cancel) })
	if handled {
		os.Exit(code)
	}
	full, err := fullCLI()
	if err == nil {
		err = syscall.Exec(full, append([]string{full}, os.Args[1:]...), os.Environ())
		err = fmt.Errorf("running the full ARL CLI %s: %w", full, err)
	}
	fmt.Fprintln(os.Stderr, "error:", err)
	os.Exit(1)
}

// cancelOnSignals makes Ctrl-C and SIGTERM cancel the call: the connection
// closes, the sidecar stops the command, and the error is printed with exit
// code 1, as the full CLI does. The fast path calls it once the command's
// request is written, while it waits for the sidecar anyway, because
// catching signals costs about 0.7 ms (os/signal's receiving loop takes a
// thread of its own), a sixth of a warm exec's cost over the SDK
// (docs/performance.md). A signal before that ends the process by its
// default action: nothing has started in the sandbox yet.
func cancelOnSignals(cancel context.CancelFunc) {
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-signals
		cancel()
	}()
}

// fullCLI is $ARL_CLI, else the arl binary in this binary's directory. No
// PATH search: an unrelated program named arl must never get these
// arguments.
func fullCLI() (string, error) {
	if p := os.Getenv(fullEnv); p != "" {
		return p, nil
	}
	self, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("finding kubectl-arl's own path: %w", err)
	}
	if resolved, err := filepath.EvalSymlinks(self); err == nil {
		self = resolved
	}
	full := filepath.Join(filepath.Dir(self), "arl")
	if _, err := os.Stat(full); err != nil {
		return "", fmt.Errorf("the full ARL CLI is not installed next to kubectl-arl (%s): %w; `make install-plugin` installs both, or set %s", full, err, fullEnv)
	}
	return full, nil
}
