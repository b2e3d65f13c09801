package commands

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/spf13/cobra"

	"github.com/arl-infra/arl/cli/internal/mcptools"
)

// Version is the plugin's version (set with -ldflags -X).
var Version = "dev"

func newMCPCmd(o *Options) *cobra.Command {
	cfg := mcptools.Config{}
	var httpAddr string
	cmd := &cobra.Command{
		Use:   "mcp [--http ADDR]",
		Short: "Serve ARL sandboxes to MCP clients (stdio, or streamable HTTP with --http)",
		Long: `Serves the tools create_sandbox, list_sandboxes, delete_sandbox, run_command,
write_file, read_file, list_files, run_steps and signal_process over MCP: on stdin/stdout
by default, or as streamable HTTP on --http ADDR (path /mcp).

Safety: the tools use only the sandboxes this server created and the ones
labelled arl.infra.io/mcp=true (--allow-any-sandbox lifts this), only in the
--namespace allow-list and, for new sandboxes, the --pool allow-list. The
sandboxes it created are deleted when it stops (--keep-sandboxes leaves them
to their idle timeout).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			cfg.Kube = o.Kube
			if cfg.Mode, err = o.Mode(); err != nil {
				return err
			}
			cfg.Version = Version
			srv, err := mcptools.New(cfg)
			if err != nil {
				return err
			}
			defer func() {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				if err := srv.Cleanup(ctx); err != nil {
					fmt.Fprintln(o.IO.ErrOut, "kubectl arl mcp: cleanup:", err)
				}
			}()
			if httpAddr == "" {
				err := srv.MCPServer().Run(cmd.Context(), &mcp.StdioTransport{})
				if err != nil && !errors.Is(err, context.Canceled) {
					return err
				}
				return nil
			}
			return serveHTTP(cmd.Context(), o, srv, httpAddr)
		},
	}
	// Shadows kubectl's single --namespace: here it is the allow-list.
	cmd.Flags().StringArrayVarP(&cfg.Namespaces, "namespace", "n", nil, "namespace the tools may use (repeatable; the first is the default; default: the context's namespace)")
	cmd.Flags().StringArrayVar(&cfg.Pools, "pool", nil, "pool create_sandbox may use (repeatable; the first is the default; default: any)")
	cmd.Flags().BoolVar(&cfg.AllowAny, "allow-any-sandbox", false, "let the tools use every sandbox of the allowed namespaces, not only their own and labelled ones")
	cmd.Flags().BoolVar(&cfg.KeepSandboxes, "keep-sandboxes", false, "do not delete the created sandboxes on exit (their ttl deletes them)")
	cmd.Flags().Int32Var(&cfg.DefaultTTLSeconds, "ttl", 1800, "default idle timeout (seconds) of created sandboxes")
	cmd.Flags().IntVar(&cfg.OutputLimit, "output-limit", 64<<10, "bytes of stdout/stderr/file content returned per call")
	cmd.Flags().StringVar(&httpAddr, "http", "", "serve streamable HTTP on this address (e.g. 127.0.0.1:8765) instead of stdio")
	return cmd
}

func serveHTTP(ctx context.Context, o *Options, srv *mcptools.Server, addr string) error {
	mcpSrv := srv.MCPServer()
	handler := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return mcpSrv }, nil)
	mux := http.NewServeMux()
	mux.Handle("/mcp", handler)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", addr, err)
	}
	fmt.Fprintf(o.IO.ErrOut, "kubectl arl mcp: serving streamable HTTP on http://%s/mcp\n", ln.Addr())
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = hs.Shutdown(sctx)
	}()
	if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
