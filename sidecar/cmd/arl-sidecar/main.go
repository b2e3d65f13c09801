// Command arl-sidecar is ARL's in-pod agent: `serve` (the network API),
// `agent` (wraps the executor's command and runs user processes) and
// `install` (copies itself for the init container).
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/arl-infra/arl/sidecar/internal/agent"
	"github.com/arl-infra/arl/sidecar/internal/idempotency"
	"github.com/arl-infra/arl/sidecar/internal/install"
	"github.com/arl-infra/arl/sidecar/internal/serve"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `usage:
  arl-sidecar serve [flags]              serve the sidecar API (HTTP :8080, gRPC :50051)
  arl-sidecar agent --socket=PATH -- CMD...  run CMD and serve process calls on PATH
  arl-sidecar install DEST               copy this binary to DEST (mode 0755)
  arl-sidecar version`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: logLevel()}))
	slog.SetDefault(log)
	var err error
	code := 0
	switch os.Args[1] {
	case "serve":
		err = runServe(os.Args[2:], log)
	case "agent":
		code, err = runAgent(os.Args[2:], log)
	case "install":
		if len(os.Args) != 3 {
			fmt.Fprintln(os.Stderr, usage)
			os.Exit(2)
		}
		err = install.Self(os.Args[2])
	case "version":
		fmt.Println(version)
	case "-h", "--help", "help":
		fmt.Println(usage)
	default:
		fmt.Fprintf(os.Stderr, "unknown subcommand %q\n%s\n", os.Args[1], usage)
		os.Exit(2)
	}
	if err != nil {
		log.Error("arl-sidecar failed", "subcommand", os.Args[1], "err", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

func logLevel() slog.Level {
	if strings.EqualFold(os.Getenv("ARL_SIDECAR_LOG_LEVEL"), "debug") {
		return slog.LevelDebug
	}
	return slog.LevelInfo
}

type limits struct {
	maxOutputBytes       *int
	maxForegroundTimeout *time.Duration
	maxBodyBytes         *int
	workspace            *string
}

func limitFlags(fs *flag.FlagSet) limits {
	return limits{
		maxOutputBytes:       fs.Int("max-output-bytes", 1<<20, "bytes of stdout (and, separately, stderr) kept per process"),
		maxForegroundTimeout: fs.Duration("max-foreground-timeout", 10*time.Minute, "ceiling and default timeout of a foreground run"),
		maxBodyBytes:         fs.Int("max-body-bytes", 16<<20, "largest request body (and streamed message, and ReadFile result)"),
		workspace:            fs.String("workspace", "/workspace", "workspace root: default working directory, wiped by reset"),
	}
}

func runServe(args []string, log *slog.Logger) error {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	httpAddr := fs.String("http-addr", ":8080", "HTTP/1.1 + h2c address (Connect, gRPC, gRPC-Web, REST, /metrics)")
	grpcAddr := fs.String("grpc-addr", ":50051", "gRPC address (same handlers); empty to disable")
	allowedRoots := fs.String("allowed-roots", "", "comma-separated roots for file calls (default: the workspace)")
	agentSocket := fs.String("agent-socket", "", "forward process calls to the agent on this Unix socket")
	tokenFile := fs.String("token-file", "", "file holding the bearer token (default: $ARL_SIDECAR_TOKEN; none means no auth)")
	retention := fs.Duration("idempotency-retention", idempotency.DefaultOptions().Retention, "how long the result of a call with an idempotency key is kept for its repeats")
	lim := limitFlags(fs)
	_ = fs.Parse(args)

	token, err := serve.LoadToken(*tokenFile)
	if err != nil {
		return err
	}
	var roots []string
	for _, r := range strings.Split(*allowedRoots, ",") {
		if r = strings.TrimSpace(r); r != "" {
			roots = append(roots, r)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	return serve.Run(ctx, serve.Config{
		HTTPAddr:             *httpAddr,
		GRPCAddr:             *grpcAddr,
		Workspace:            *lim.workspace,
		AllowedRoots:         roots,
		AgentSocket:          *agentSocket,
		Token:                token,
		MaxOutputBytes:       *lim.maxOutputBytes,
		MaxForegroundTimeout: *lim.maxForegroundTimeout,
		MaxBodyBytes:         *lim.maxBodyBytes,
		IdempotencyRetention: *retention,
		Version:              version,
		Logger:               log,
		OwnAllChildren:       true,
	})
}

func runAgent(args []string, log *slog.Logger) (int, error) {
	fs := flag.NewFlagSet("agent", flag.ExitOnError)
	socket := fs.String("socket", "/arl/agent.sock", "Unix socket to serve process calls on")
	lim := limitFlags(fs)
	_ = fs.Parse(args)
	if fs.NArg() == 0 {
		return 2, fmt.Errorf("agent needs a command after --")
	}
	return agent.Run(agent.Config{
		Socket:               *socket,
		Command:              fs.Args(),
		Workspace:            *lim.workspace,
		MaxOutputBytes:       *lim.maxOutputBytes,
		MaxForegroundTimeout: *lim.maxForegroundTimeout,
		MaxBodyBytes:         *lim.maxBodyBytes,
		Version:              version,
		Logger:               log,
	})
}
