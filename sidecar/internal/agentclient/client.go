// Package agentclient forwards the process RPCs of the sidecar to the
// in-executor agent over a Unix socket (Connect over h2c).
package agentclient

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"connectrpc.com/connect"

	sidecarv1 "github.com/arl-infra/arl/proto/gen/arl/sidecar/v1"
	"github.com/arl-infra/arl/proto/gen/arl/sidecar/v1/sidecarv1connect"
)

// socketWait is how long a call waits for the agent's socket to appear (the
// executor container may start after the sidecar).
const socketWait = 3 * time.Second

// Forwarder implements the process half of the service by calling the agent.
// Unary and server-streaming calls go over HTTP/1.1, which costs less per
// call than HTTP/2 framing (about 0.2 ms of an Execute, sidecar-bench
// -agent); the bidirectional Interact needs HTTP/2 and gets its own client.
type Forwarder struct {
	socket string
	client sidecarv1connect.SidecarServiceClient
	bidi   sidecarv1connect.SidecarServiceClient
	// lastReady is when the agent last answered Ready (Unix nanoseconds).
	lastReady atomic.Int64
}

// New returns a Forwarder for the agent listening on socket.
func New(socket string) *Forwarder {
	return &Forwarder{
		socket: socket,
		client: sidecarv1connect.NewSidecarServiceClient(newHTTP1Client(socket), "http://agent"),
		bidi:   sidecarv1connect.NewSidecarServiceClient(NewHTTPClient(socket), "http://agent"),
	}
}

// NewHTTPClient returns an h2c client whose every connection goes to the
// Unix socket.
func NewHTTPClient(socket string) *http.Client {
	var protocols http.Protocols
	protocols.SetUnencryptedHTTP2(true)
	return &http.Client{Transport: &http.Transport{
		Protocols:   &protocols,
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) { return dialSocket(ctx, socket) },
	}}
}

// newHTTP1Client returns an HTTP/1.1 client with kept-alive connections to
// the Unix socket, one per concurrent call.
func newHTTP1Client(socket string) *http.Client {
	return &http.Client{Transport: &http.Transport{
		MaxIdleConnsPerHost: 64,
		DialContext:         func(ctx context.Context, _, _ string) (net.Conn, error) { return dialSocket(ctx, socket) },
	}}
}

// dialSocket retries while the socket does not exist or refuses, up to
// socketWait. The final error does not wrap the dialer's timeout, so the
// call fails with Unavailable rather than DeadlineExceeded.
func dialSocket(ctx context.Context, socket string) (net.Conn, error) {
	deadline := time.Now().Add(socketWait)
	var dialer net.Dialer
	for {
		conn, err := dialer.DialContext(ctx, "unix", socket)
		if err == nil {
			return conn, nil
		}
		retry := errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED)
		if !retry {
			return nil, fmt.Errorf("agent socket %s: %v", socket, err)
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("agent not reachable on %s after %v (is the executor wrapped by `arl-sidecar agent`?): %v", socket, socketWait, err)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// readyMemory is how long an answer of the agent vouches for it: readiness
// probes come every second on every idle pod, and a Health round trip to
// the agent costs both processes about a millisecond of CPU.
const readyMemory = 3 * time.Second

// Ready checks that the agent answers (or answered within readyMemory).
func (f *Forwarder) Ready(ctx context.Context) error {
	if last := f.lastReady.Load(); last != 0 && time.Since(time.Unix(0, last)) < readyMemory {
		return nil
	}
	if err := f.checkReady(ctx); err != nil {
		f.lastReady.Store(0)
		return err
	}
	f.lastReady.Store(time.Now().UnixNano())
	return nil
}

func (f *Forwarder) checkReady(ctx context.Context) error {
	if _, err := os.Stat(f.socket); err != nil {
		return fmt.Errorf("agent socket %s not there yet: %w", f.socket, err)
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, err := f.client.Health(ctx, connect.NewRequest(&sidecarv1.HealthRequest{})); err != nil {
		return fmt.Errorf("agent on %s: %w", f.socket, err)
	}
	return nil
}
