package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// shutdownGrace bounds how long in-flight calls may finish after a stop.
const shutdownGrace = 10 * time.Second

// NewHTTPServer returns a server for h speaking HTTP/1.1 and h2c.
func NewHTTPServer(h http.Handler) *http.Server {
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	return &http.Server{Handler: h, Protocols: &protocols, ReadHeaderTimeout: 10 * time.Second}
}

// Serve serves h on every listener until ctx ends, then stops gracefully.
func Serve(ctx context.Context, h http.Handler, listeners []net.Listener, log *slog.Logger) error {
	servers := make([]*http.Server, len(listeners))
	errs := make(chan error, len(listeners))
	for i, l := range listeners {
		servers[i] = NewHTTPServer(h)
		log.Info("listening", "addr", l.Addr().String())
		go func(s *http.Server, l net.Listener) {
			if err := s.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errs <- fmt.Errorf("serve %s: %w", l.Addr(), err)
				return
			}
			errs <- nil
		}(servers[i], l)
	}
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errs:
	}
	log.Info("stopping")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	for _, s := range servers {
		if err := s.Shutdown(shutdownCtx); err != nil {
			log.Warn("graceful stop timed out; closing", "err", err)
			s.Close()
		}
	}
	return serveErr
}
