package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/arl-infra/arl/tools/image/internal/registry"
)

func runRegistry(ctx context.Context, args []string) error {
	fs := newFlags("registry")
	addr := fs.String("addr", "127.0.0.1:5000", "listen address")
	dir := fs.String("dir", "", "data directory (blobs and the manifest journal; required)")
	_ = fs.Parse(args)
	if *dir == "" {
		return fmt.Errorf("--dir is required")
	}
	logger := log.New(os.Stderr, "", log.LstdFlags)
	h, replayed, err := registry.New(*dir, logger)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	logger.Printf("registry serving on %s, data in %s (%d manifests restored)", ln.Addr(), *dir, replayed)
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
