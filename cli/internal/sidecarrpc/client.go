// Package sidecarrpc is the full CLI's Connect client to a sandbox's
// sidecar: the HTTP/2 client with the bearer token, the exec output loop
// and error messages that say what to do (shared with the lean front's
// client, package execstream, which the kubectl-arl front links instead of
// this one).
package sidecarrpc

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"connectrpc.com/connect"

	"github.com/arl-infra/arl/cli/internal/execstream"
	"github.com/arl-infra/arl/proto/gen/arl/sidecar/v1/sidecarv1connect"
)

// DialFunc opens a connection to the sidecar (directly or through a
// port-forward).
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// NewClient is a gRPC-over-h2c client of the sidecar at address ("host:port")
// sending token (if any) on every call. Close the returned http.Client's
// idle connections when done.
func NewClient(dial DialFunc, address, token string) (sidecarv1connect.SidecarServiceClient, *http.Client) {
	protocols := new(http.Protocols)
	protocols.SetUnencryptedHTTP2(true)
	hc := &http.Client{Transport: &http.Transport{
		Protocols:   protocols,
		DialContext: dial,
		HTTP2:       &http.HTTP2Config{SendPingTimeout: 30 * time.Second, PingTimeout: 5 * time.Second},
	}}
	cl := sidecarv1connect.NewSidecarServiceClient(hc, "http://"+address,
		connect.WithGRPC(), connect.WithInterceptors(bearerInterceptor(token)), connect.WithReadMaxBytes(64<<20))
	return cl, hc
}

// bearerInterceptor sets the sidecar token on every call (unary and
// streaming).
type bearerInterceptor string

func (t bearerInterceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		if t != "" {
			req.Header().Set("Authorization", "Bearer "+string(t))
		}
		return next(ctx, req)
	}
}

func (t bearerInterceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return func(ctx context.Context, spec connect.Spec) connect.StreamingClientConn {
		conn := next(ctx, spec)
		if t != "" {
			conn.RequestHeader().Set("Authorization", "Bearer "+string(t))
		}
		return conn
	}
}

func (bearerInterceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return next
}

// Describe turns a sidecar error into a message that says what to do (the
// same messages as the lean front's, execstream.Describe).
func Describe(name string, err error) error {
	code := ""
	var ce *connect.Error
	if errors.As(err, &ce) {
		code = ce.Code().String()
	}
	return execstream.Describe(name, code, err)
}
