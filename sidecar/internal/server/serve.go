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

const (
	// shutdownGrace bounds how long in-flight calls may finish after a stop.
	shutdownGrace = 10 * time.Second
	// readHeaderTimeout bounds the wait for a request's headers.
	readHeaderTimeout = 10 * time.Second
	// idleTimeout closes a keep-alive connection left idle.
	idleTimeout = 2 * time.Minute
	// BodyReadTimeout bounds reading the body of a request that is not a
	// client or bidi stream; http.Server.ReadTimeout is not used because it
	// would also cut long streams (Interact, uploads).
	BodyReadTimeout = time.Minute
)

// NewHTTPServer returns a server for h speaking HTTP/1.1 and h2c.
func NewHTTPServer(h http.Handler) *http.Server {
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	return &http.Server{
		Handler:           h,
		Protocols:         &protocols,
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		ConnContext:       withConn,
	}
}

// Serve serves h on every listener until ctx ends, then stops gracefully.
// maxUnauthenticated > 0 caps each listener's connections that have not
// yet carried an authenticated request.
func Serve(ctx context.Context, h http.Handler, listeners []net.Listener, maxUnauthenticated int, log *slog.Logger) error {
	servers := make([]*http.Server, len(listeners))
	errs := make(chan error, len(listeners))
	for i, l := range listeners {
		servers[i] = NewHTTPServer(h)
		if maxUnauthenticated > 0 {
			l = newLimitListener(l, maxUnauthenticated)
		}
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
