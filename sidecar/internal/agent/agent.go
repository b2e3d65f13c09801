// Package agent is `arl-sidecar agent`: it runs the executor's original
// command as a child, is a child subreaper, and serves the process RPCs on a
// Unix socket for the sidecar.
package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/arl-infra/arl/sidecar/internal/process"
	"github.com/arl-infra/arl/sidecar/internal/server"
	"github.com/arl-infra/arl/sidecar/internal/service"
)

// Config holds the agent flags.
type Config struct {
	Socket               string
	Command              []string
	Workspace            string
	MaxOutputBytes       int
	MaxForegroundTimeout time.Duration
	MaxBodyBytes         int
	Version              string
	Logger               *slog.Logger
}

// Run runs the agent and returns the main command's exit code.
func Run(cfg Config) (int, error) {
	log := cfg.Logger
	mgr, err := process.NewManager(process.Config{
		WorkspaceRoot:  cfg.Workspace,
		MaxOutputBytes: cfg.MaxOutputBytes,
		Subreaper:      true,
		OwnAllChildren: true,
		Logger:         log,
	})
	if err != nil {
		return 1, err
	}
	defer mgr.Close()

	// Forward termination signals to the main command; the agent itself
	// ends when the main command does.
	signals := make(chan os.Signal, 4)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT)
	defer signal.Stop(signals)

	main, err := mgr.StartMain(cfg.Command)
	if err != nil {
		return 127, err
	}
	log.Info("main command started", "pid", main.Pid, "command", cfg.Command)

	listener, err := listenSocket(cfg.Socket)
	if err != nil {
		_ = main.Signal(syscall.SIGTERM)
		_, _ = main.Wait()
		return 1, err
	}
	handler, err := server.NewHandler(server.Config{
		Service:      service.New(service.NewLocal(mgr, cfg.MaxForegroundTimeout), service.Options{Workspace: cfg.Workspace, Version: cfg.Version}),
		MaxBodyBytes: cfg.MaxBodyBytes,
		Logger:       log,
	})
	if err != nil {
		return 1, err
	}
	ctx, stopServing := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- server.Serve(ctx, handler, []net.Listener{listener}, 0, log) }()

	exited := make(chan *os.ProcessState, 1)
	go func() {
		state, _ := main.Wait()
		exited <- state
	}()
	var state *os.ProcessState
	for state == nil {
		select {
		case sig := <-signals:
			log.Info("forwarding signal to main command", "signal", sig.String(), "pid", main.Pid)
			_ = main.Signal(sig)
		case state = <-exited:
		}
	}
	stopServing()
	if err := <-served; err != nil {
		log.Warn("agent server", "err", err)
	}
	os.Remove(cfg.Socket)
	code := exitCode(state)
	log.Info("main command exited", "exit_code", code)
	return code, nil
}

func exitCode(state *os.ProcessState) int {
	if state == nil {
		return 1
	}
	if ws, ok := state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return state.ExitCode()
}

// listenSocket replaces a stale socket file and listens on it.
func listenSocket(path string) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("agent socket dir: %w", err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("remove stale agent socket: %w", err)
	}
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("listen on agent socket: %w", err)
	}
	// The sidecar container may run as another user.
	if err := os.Chmod(path, 0o666); err != nil {
		l.Close()
		return nil, fmt.Errorf("chmod agent socket: %w", err)
	}
	return l, nil
}
