// Package server puts the SidecarService on HTTP: Connect, gRPC and gRPC-Web
// natively, the manual's REST paths through vanguard, gRPC health,
// reflection and /metrics, behind auth, logging, metrics and body limits.
package server

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"connectrpc.com/connect"
	"connectrpc.com/grpchealth"
	"connectrpc.com/grpcreflect"
	"connectrpc.com/vanguard"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/arl-infra/arl/proto/gen/arl/sidecar/v1/sidecarv1connect"
	"github.com/arl-infra/arl/sidecar/internal/idempotency"
	"github.com/arl-infra/arl/sidecar/internal/service"
)

// compressMinBytes is the smallest response worth compressing.
const compressMinBytes = 8 << 10

// Config is what NewHandler needs.
type Config struct {
	Service *service.Service
	// Token, when set, is required on every call but health.
	Token string
	// MaxBodyBytes caps a request body (and each message of a stream).
	MaxBodyBytes int
	Metrics      *Metrics
	Logger       *slog.Logger
	// Idempotency, when set, runs keyed calls once (see package
	// idempotency); the agent, reached only through the sidecar, has none.
	Idempotency *idempotency.Store
}

// NewHandler builds the sidecar's whole HTTP handler.
func NewHandler(cfg Config) (http.Handler, error) {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 16 << 20
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics()
	}
	observe := &observeInterceptor{log: cfg.Logger, requests: cfg.Metrics.requests}
	interceptors := []connect.Interceptor{observe}
	if cfg.Idempotency != nil {
		interceptors = append(interceptors, cfg.Idempotency)
	}
	handlerOpts := []connect.HandlerOption{
		// observe first (outermost); auth ran before, as the outermost
		// http.Handler, so only authenticated calls get here.
		connect.WithInterceptors(interceptors...),
		connect.WithCodec(jsonCodec{}),
		connect.WithReadMaxBytes(cfg.MaxBodyBytes),
		// Compressing small answers costs more than it saves on a pod network.
		connect.WithCompressMinBytes(compressMinBytes),
	}
	path, handler := sidecarv1connect.NewSidecarServiceHandler(cfg.Service, handlerOpts...)
	transcoder, err := vanguard.NewTranscoder(
		[]*vanguard.Service{vanguard.NewService(path, handler,
			vanguard.WithRESTUnmarshalOptions(vanguard.RESTUnmarshalOptions{DiscardUnknownQueryParams: true}),
			vanguard.WithMaxMessageBufferBytes(uint32(cfg.MaxBodyBytes)),
		)},
		vanguard.WithCodec(vanguardJSONCodec),
		vanguard.WithUnknownHandler(http.HandlerFunc(notFound)),
	)
	if err != nil {
		return nil, fmt.Errorf("build REST transcoder: %w", err)
	}

	mux := http.NewServeMux()
	mux.Handle(path, handler) // Connect, gRPC and gRPC-Web go straight to the handler
	mux.Handle("/", transcoder)
	mux.Handle(grpchealth.NewHandler(healthChecker{cfg.Service}))
	reflector := grpcreflect.NewStaticReflector(sidecarv1connect.SidecarServiceName, grpchealth.HealthV1ServiceName)
	mux.Handle(grpcreflect.NewHandlerV1(reflector))
	mux.Handle(grpcreflect.NewHandlerV1Alpha(reflector))
	// /metrics is behind the token like every call (the scraper sends it).
	mux.Handle("/metrics", promhttp.HandlerFor(cfg.Metrics.Registry, promhttp.HandlerOpts{}))
	// Order, outermost first: token (headers only), body limit and read
	// deadline, then decoding (REST defaults, transcoder, Connect handler).
	return requireToken(cfg.Token, limitBody(defaultRESTJSON(mux), int64(cfg.MaxBodyBytes), BodyReadTimeout)), nil
}

// restMethods are the manual's plain endpoints and their methods.
var restMethods = map[string]string{
	"/execute": http.MethodPost, "/signal": http.MethodPost, "/reset": http.MethodPost, "/health": http.MethodGet,
	"/files/write": http.MethodPost, "/files/read": http.MethodGet, "/files/list": http.MethodGet, "/files/stat": http.MethodGet,
	"/files/mkdir": http.MethodPost, "/files/remove": http.MethodPost, "/files/rename": http.MethodPost,
}

// defaultRESTJSON reads every REST body as JSON, whatever its content type
// says: `curl -d '{...}'` sends application/x-www-form-urlencoded by default.
func defaultRESTJSON(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		method, isREST := restMethods[r.URL.Path]
		if isREST && r.Method != method {
			writeJSONError(w, http.StatusMethodNotAllowed, connect.CodeUnimplemented, fmt.Sprintf("%s %s: use %s", r.Method, r.URL.Path, method))
			return
		}
		if isREST && method == http.MethodPost && !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			r.Header.Set("Content-Type", "application/json")
		}
		next.ServeHTTP(w, r)
	})
}

// notFound answers an unknown path with a JSON error like every other one.
func notFound(w http.ResponseWriter, r *http.Request) {
	writeJSONError(w, http.StatusNotFound, connect.CodeNotFound,
		fmt.Sprintf("no endpoint %s %s: the REST paths are POST /execute, POST /signal, POST /reset, GET /health, "+
			"POST /files/write, GET /files/read, GET /files/list, GET /files/stat, POST /files/mkdir, POST /files/remove and POST /files/rename", r.Method, r.URL.Path))
}

// writeJSONError writes the google.rpc.Status shape the REST errors use.
func writeJSONError(w http.ResponseWriter, status int, code connect.Code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	body, _ := json.Marshal(map[string]any{"code": int(code), "message": msg, "details": []any{}})
	_, _ = w.Write(body)
}

// healthChecker answers grpc.health.v1 from the service's readiness.
type healthChecker struct{ svc *service.Service }

func (h healthChecker) Check(ctx context.Context, req *grpchealth.CheckRequest) (*grpchealth.CheckResponse, error) {
	if req.Service != "" && req.Service != sidecarv1connect.SidecarServiceName {
		return nil, connect.NewError(connect.CodeNotFound, fmt.Errorf("unknown service %q", req.Service))
	}
	if err := h.svc.Ready(ctx); err != nil {
		return &grpchealth.CheckResponse{Status: grpchealth.StatusNotServing}, nil
	}
	return &grpchealth.CheckResponse{Status: grpchealth.StatusServing}, nil
}
