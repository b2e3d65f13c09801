// Package sidecarclient reaches the sidecar of a sandbox pod over gRPC.
//
// One HTTP/2 cleartext (h2c) transport is shared by every sidecar, so each
// pod costs one long-lived TCP connection and a call costs one round trip.
// The Connect client per address is cached; the bearer token is set per call.
package sidecarclient

import (
	"net"
	"net/http"
	"sync"
	"time"

	"connectrpc.com/connect"

	"github.com/arl-infra/arl/proto/gen/arl/sidecar/v1/sidecarv1connect"
)

// maxCachedClients bounds the client cache; past it the cache starts over
// (clients are cheap to build, the shared transport keeps the connections).
const maxCachedClients = 4096

// Pool hands out Connect clients (gRPC protocol) for sidecar addresses.
type Pool struct {
	httpClient *http.Client

	mu      sync.Mutex
	clients map[string]sidecarv1connect.SidecarServiceClient
}

// NewPool builds a pool with its own h2c transport.
func NewPool() *Pool {
	return &Pool{
		httpClient: &http.Client{Transport: newH2CTransport()},
		clients:    make(map[string]sidecarv1connect.SidecarServiceClient),
	}
}

func newH2CTransport() *http.Transport {
	protocols := new(http.Protocols)
	protocols.SetUnencryptedHTTP2(true)
	return &http.Transport{
		Protocols:       protocols,
		DialContext:     (&net.Dialer{Timeout: 3 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		IdleConnTimeout: 5 * time.Minute,
		HTTP2: &http.HTTP2Config{
			// Detect a vanished pod on an idle connection instead of waiting
			// for the next call's deadline.
			SendPingTimeout: 30 * time.Second,
			PingTimeout:     5 * time.Second,
		},
	}
}

// Client returns the cached client for addr ("host:port").
func (p *Pool) Client(addr string) sidecarv1connect.SidecarServiceClient {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.clients[addr]; ok {
		return c
	}
	if len(p.clients) >= maxCachedClients {
		clear(p.clients)
	}
	c := sidecarv1connect.NewSidecarServiceClient(p.httpClient, "http://"+addr, connect.WithGRPC())
	p.clients[addr] = c
	return c
}

// Close drops idle connections.
func (p *Pool) Close() {
	p.httpClient.CloseIdleConnections()
}

// WithToken sets the sidecar's bearer token on a request; an empty token
// (a pool with sidecarAuth None) sends no header.
func WithToken[T any](req *connect.Request[T], token string) *connect.Request[T] {
	if token != "" {
		req.Header().Set("Authorization", "Bearer "+token)
	}
	return req
}
