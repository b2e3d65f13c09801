// Command arl-node-init is what arl-node starts inside a pod: `pod-init`
// (PID 1 of the pod) and `container-init` (sets up a container's mounts,
// then stays PID 1 of the container's PID namespace running the command, or
// execs the command when the pod shares its PID namespace). It holds only the sandbox package, so it starts in
// about a millisecond; the arl-node binary can play both parts too, but its
// Kubernetes libraries' package initialisation costs ~30 ms of CPU and
// ~7 MB of memory per process, four times per pool pod. arl-node uses
// arl-node-init when it lies beside it, and re-executes itself otherwise.
package main

import (
	"fmt"
	"os"

	"github.com/arl-infra/arl/tools/node/internal/sandbox"
)

func main() {
	sandbox.MaybeRunInit()
	fmt.Fprintf(os.Stderr, "usage: %s %s HOSTNAME POD-DIR | %s (spec on fd 4)\n", os.Args[0], sandbox.PodInitCommand, sandbox.ContainerInitCommand)
	os.Exit(2)
}
