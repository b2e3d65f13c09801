package server

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"

	"connectrpc.com/connect"
	"connectrpc.com/grpchealth"

	"github.com/arl-infra/arl/proto/gen/arl/sidecar/v1/sidecarv1connect"
)

var errUnauthenticated = errors.New(`missing or wrong token: send "Authorization: Bearer <token>"`)

// openPaths need no token: health (REST, the Health RPC, grpc.health.v1)
// and server reflection (it only describes the API).
func isOpenPath(path string) bool {
	switch {
	case path == "/health",
		path == sidecarv1connect.SidecarServiceHealthProcedure,
		strings.HasPrefix(path, "/"+grpchealth.HealthV1ServiceName+"/"),
		strings.HasPrefix(path, "/grpc.reflection.v1.ServerReflection/"),
		strings.HasPrefix(path, "/grpc.reflection.v1alpha.ServerReflection/"):
		return true
	}
	return false
}

// requireToken is the outermost handler: it checks "Authorization: Bearer
// <token>" on the request's headers before any body is read, limited,
// decompressed or decoded, on every path but the open ones (/metrics
// included). A refusal is 401 in the caller's protocol: gRPC and Connect
// calls on the RPC paths get their protocol's error, everything else the
// REST JSON error. An authenticated request marks its connection as
// authenticated for the unauthenticated-connection cap.
func requireToken(token string, next http.Handler) http.Handler {
	if token == "" {
		return next
	}
	want := []byte(token)
	errWriter := connect.NewErrorWriter()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isOpenPath(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), want) != 1 {
			// The body is never read: close the connection rather than drain it.
			w.Header().Set("Connection", "close")
			if isRPCPath(r.URL.Path) && errWriter.IsSupported(r) {
				_ = errWriter.Write(w, r, connect.NewError(connect.CodeUnauthenticated, errUnauthenticated))
				return
			}
			writeJSONError(w, http.StatusUnauthorized, connect.CodeUnauthenticated, errUnauthenticated.Error())
			return
		}
		markAuthenticated(r.Context())
		next.ServeHTTP(w, r)
	})
}

// isRPCPath is true for the gRPC/Connect paths ("/package.Service/Method").
func isRPCPath(path string) bool {
	service, method, ok := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	return ok && strings.Contains(service, ".") && method != "" && !strings.Contains(method, "/")
}
