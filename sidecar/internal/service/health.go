package service

import (
	"context"
	"fmt"

	"connectrpc.com/connect"

	sidecarv1 "github.com/arl-infra/arl/proto/gen/arl/sidecar/v1"
)

// Health answers "ok" while the sidecar can serve (and, with an agent, while
// the agent answers); otherwise Unavailable (HTTP 503).
func (s *Service) Health(ctx context.Context, _ *connect.Request[sidecarv1.HealthRequest]) (*connect.Response[sidecarv1.HealthResponse], error) {
	if err := s.Ready(ctx); err != nil {
		return nil, connect.NewError(connect.CodeUnavailable, fmt.Errorf("not serving: %w", err))
	}
	return connect.NewResponse(&sidecarv1.HealthResponse{Status: "ok", Version: s.opts.Version}), nil
}

// Ready reports whether the service can serve process calls.
func (s *Service) Ready(ctx context.Context) error {
	if s.opts.Ready == nil {
		return nil
	}
	return s.opts.Ready(ctx)
}
