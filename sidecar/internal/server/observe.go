package server

import (
	"context"
	"log/slog"
	"time"

	"connectrpc.com/connect"
	"github.com/prometheus/client_golang/prometheus"
)

// observeInterceptor logs every call and records its latency by procedure
// and code.
type observeInterceptor struct {
	log      *slog.Logger
	requests *prometheus.HistogramVec
}

func (o *observeInterceptor) done(ctx context.Context, procedure string, start time.Time, err error) {
	elapsed := time.Since(start)
	code := "ok"
	if err != nil {
		code = connect.CodeOf(err).String()
	}
	o.requests.WithLabelValues(procedure, code).Observe(elapsed.Seconds())
	if err != nil {
		level := slog.LevelInfo
		if connect.CodeOf(err) == connect.CodeInternal || connect.CodeOf(err) == connect.CodeUnknown {
			level = slog.LevelError
		}
		o.log.Log(ctx, level, "call failed", "procedure", procedure, "code", code, "err", err, "duration", elapsed)
		return
	}
	o.log.Debug("call", "procedure", procedure, "duration", elapsed)
}

func (o *observeInterceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		start := time.Now()
		resp, err := next(ctx, req)
		o.done(ctx, req.Spec().Procedure, start, err)
		return resp, err
	}
}

func (o *observeInterceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (o *observeInterceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		start := time.Now()
		err := next(ctx, conn)
		o.done(ctx, conn.Spec().Procedure, start, err)
		return err
	}
}
