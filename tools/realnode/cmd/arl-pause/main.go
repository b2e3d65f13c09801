// Command arl-pause is the real node's pod sandbox process, the role the
// pause image plays on every Kubernetes node: it holds the pod's
// namespaces, reaps children re-parented to it and exits on SIGINT or
// SIGTERM. Built static (no cgo), it is the only file of its image.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	signals := make(chan os.Signal, 8)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for sig := range signals {
		if sig != syscall.SIGCHLD {
			os.Exit(0)
		}
		for { // reap every exited child
			pid, err := syscall.Wait4(-1, nil, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
