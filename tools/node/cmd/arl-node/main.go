// Command arl-node is a virtual-kubelet node that runs pods as local
// processes, each pod in its own network, PID, UTS and IPC namespaces.
//
//	arl-node --kubeconfig=PATH --state-dir=DIR [flags]   run the node
//	arl-node cleanup --state-dir=DIR                     remove every trace of it
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	vklog "github.com/virtual-kubelet/virtual-kubelet/log"
	vkslog "github.com/virtual-kubelet/virtual-kubelet/log/slog"

	"github.com/arl-infra/arl/tools/node/internal/sandbox"
)

func main() {
	sandbox.MaybeRunInit()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	slog.SetDefault(logger)
	// virtual-kubelet's own logs: warnings and errors only.
	vklog.L = vkslog.FromSlog(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))

	if len(os.Args) > 1 && os.Args[1] == "cleanup" {
		opts, err := parseCleanupFlags(os.Args[2:])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		if err := cleanup(logger, opts.stateDir, opts.bridge); err != nil {
			logger.Error("cleanup failed", "err", err)
			os.Exit(1)
		}
		return
	}

	opts, err := parseRunFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, logger, opts); err != nil {
		logger.Error("arl-node failed", "err", err)
		os.Exit(1)
	}
}
