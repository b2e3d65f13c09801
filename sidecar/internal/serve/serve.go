// Package serve assembles `arl-sidecar serve`: the process half (local or
// the agent), files, and the HTTP handler.
package serve

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/arl-infra/arl/sidecar/internal/agentclient"
	"github.com/arl-infra/arl/sidecar/internal/files"
	"github.com/arl-infra/arl/sidecar/internal/idempotency"
	"github.com/arl-infra/arl/sidecar/internal/process"
	"github.com/arl-infra/arl/sidecar/internal/server"
	"github.com/arl-infra/arl/sidecar/internal/service"
)

// Config holds the serve flags.
type Config struct {
	HTTPAddr             string
	GRPCAddr             string
	Workspace            string
	AllowedRoots         []string
	AgentSocket          string
	Token                string
	MaxOutputBytes       int
	MaxForegroundTimeout time.Duration
	MaxBodyBytes         int
	// IdempotencyRetention is how long a keyed call's result is kept
	// (default 10 minutes).
	IdempotencyRetention time.Duration
	Version              string
	Logger               *slog.Logger
	// OwnAllChildren: every child this process did not start is a user
	// orphan (see process.Config). The arl-sidecar binary sets it; a
	// program that also starts children of its own (the bench) must not.
	OwnAllChildren bool
}

// Sidecar is an assembled sidecar, ready to serve.
type Sidecar struct {
	Handler http.Handler
	manager *process.Manager // nil with an agent
}

// New assembles a sidecar.
func New(cfg Config) (*Sidecar, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if len(cfg.AllowedRoots) == 0 {
		cfg.AllowedRoots = []string{cfg.Workspace}
	}
	store, err := files.NewStore(cfg.AllowedRoots, int64(cfg.MaxBodyBytes))
	if err != nil {
		return nil, err
	}
	metrics := server.NewMetrics()
	s := &Sidecar{}
	var procs service.Processes
	opts := service.Options{Files: store, Workspace: cfg.Workspace, Version: cfg.Version}
	if cfg.AgentSocket != "" {
		fwd := agentclient.New(cfg.AgentSocket)
		procs = fwd
		opts.Ready = fwd.Ready
	} else {
		mgr, err := process.NewManager(process.Config{
			WorkspaceRoot:  cfg.Workspace,
			MaxOutputBytes: cfg.MaxOutputBytes,
			Subreaper:      true,
			OwnAllChildren: cfg.OwnAllChildren,
			OnExit: func(r process.Result, background bool) {
				metrics.ObserveExec(r.Duration, background)
			},
			Logger: cfg.Logger,
		})
		if err != nil {
			return nil, err
		}
		s.manager = mgr
		procs = service.NewLocal(mgr, cfg.MaxForegroundTimeout)
	}
	handler, err := server.NewHandler(server.Config{
		Service:      service.New(procs, opts),
		Token:        cfg.Token,
		MaxBodyBytes: cfg.MaxBodyBytes,
		Metrics:      metrics,
		Logger:       cfg.Logger,
		Idempotency:  idempotency.New(idempotency.Options{Retention: cfg.IdempotencyRetention}),
	})
	if err != nil {
		s.Close()
		return nil, err
	}
	s.Handler = handler
	return s, nil
}

// Manager is the local process manager; nil when an agent runs processes.
func (s *Sidecar) Manager() *process.Manager { return s.manager }

// Close ends the local user processes.
func (s *Sidecar) Close() error {
	if s.manager != nil {
		return s.manager.Close()
	}
	return nil
}

// Run serves on the HTTP and gRPC addresses until ctx ends.
func Run(ctx context.Context, cfg Config) error {
	if len(cfg.AllowedRoots) == 0 {
		cfg.AllowedRoots = []string{cfg.Workspace}
	}
	s, err := New(cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	var listeners []net.Listener
	for _, addr := range []string{cfg.HTTPAddr, cfg.GRPCAddr} {
		if addr == "" {
			continue
		}
		l, err := net.Listen("tcp", addr)
		if err != nil {
			for _, open := range listeners {
				open.Close()
			}
			return fmt.Errorf("listen on %s: %w", addr, err)
		}
		listeners = append(listeners, l)
	}
	cfg.Logger.Info("arl-sidecar serving", "workspace", cfg.Workspace, "allowed_roots", strings.Join(cfg.AllowedRoots, ","),
		"agent_socket", cfg.AgentSocket, "auth", cfg.Token != "")
	return server.Serve(ctx, s.Handler, listeners, server.DefaultMaxUnauthenticatedConns, cfg.Logger)
}

// TokenEnv is the environment variable LoadToken reads without a file.
const TokenEnv = "ARL_SIDECAR_TOKEN"

// LoadToken reads the token from a file (trimmed) or, without one, from the
// environment variable ARL_SIDECAR_TOKEN. Either way the variable is then
// removed from this process's environment, so no child ever inherits it.
func LoadToken(file string) (string, error) {
	fromEnv := strings.TrimSpace(os.Getenv(TokenEnv))
	if err := os.Unsetenv(TokenEnv); err != nil {
		return "", fmt.Errorf("unset %s: %w", TokenEnv, err)
	}
	if file == "" {
		return fromEnv, nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("read token file: %w", err)
	}
	token := strings.TrimSpace(string(data))
	if token == "" {
		return "", fmt.Errorf("token file %s is empty", file)
	}
	return token, nil
}
