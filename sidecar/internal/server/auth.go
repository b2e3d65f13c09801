package server

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"

	"connectrpc.com/connect"

	"github.com/arl-infra/arl/proto/gen/arl/sidecar/v1/sidecarv1connect"
)

// authInterceptor requires "Authorization: Bearer <token>" on every call but
// Health. Unauthenticated becomes HTTP 401 with a JSON body on every
// protocol, REST included.
type authInterceptor struct {
	token []byte
}

func newAuthInterceptor(token string) *authInterceptor {
	return &authInterceptor{token: []byte(token)}
}

var errUnauthenticated = errors.New(`missing or wrong token: send "Authorization: Bearer <token>"`)

func (a *authInterceptor) check(procedure string, header http.Header) error {
	if len(a.token) == 0 || procedure == sidecarv1connect.SidecarServiceHealthProcedure {
		return nil
	}
	got, ok := strings.CutPrefix(header.Get("Authorization"), "Bearer ")
	if !ok || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), a.token) != 1 {
		return connect.NewError(connect.CodeUnauthenticated, errUnauthenticated)
	}
	return nil
}

func (a *authInterceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		if err := a.check(req.Spec().Procedure, req.Header()); err != nil {
			return nil, err
		}
		return next(ctx, req)
	}
}

func (a *authInterceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (a *authInterceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		if err := a.check(conn.Spec().Procedure, conn.RequestHeader()); err != nil {
			return err
		}
		return next(ctx, conn)
	}
}
