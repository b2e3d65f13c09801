package serve

import (
	"context"
	"net/http"
	"testing"

	"connectrpc.com/connect"
	"connectrpc.com/grpchealth"

	sidecarv1 "github.com/arl-infra/arl/proto/gen/arl/sidecar/v1"
	"github.com/arl-infra/arl/proto/gen/arl/sidecar/v1/sidecarv1connect"
)

func TestAuthRequiresTheBearerTokenExceptForHealth(t *testing.T) {
	sc := startSidecar(t, Config{Token: "right-token"})
	ctx := context.Background()

	for _, headers := range [][]string{
		{"Authorization", ""},
		{"Authorization", "Bearer wrong-token"},
		{"Authorization", "right-token"},
	} {
		for _, path := range []string{"/execute", "/signal", "/reset"} {
			status, body := sc.rest(t, "POST", path, `{"command": ["true"], "pid": 1, "signal": "SIGTERM"}`, headers...)
			if status != http.StatusUnauthorized || body["code"] != float64(16) || body["message"] == "" {
				t.Errorf("%s with %v: %d %v, want 401 with a JSON body", path, headers, status, body)
			}
		}
		status, body := sc.rest(t, "POST", "/arl.sidecar.v1.SidecarService/Execute", `{"command": ["true"]}`, append(headers, "Connect-Protocol-Version", "1")...)
		if status != http.StatusUnauthorized || body["code"] != "unauthenticated" {
			t.Errorf("Connect JSON with %v: %d %v", headers, status, body)
		}
	}
	if status, body := sc.rest(t, "GET", "/health", "", "Authorization", ""); status != 200 || body["status"] != "ok" {
		t.Errorf("GET /health without token: %d %v", status, body)
	}
	if status, body := sc.rest(t, "POST", "/execute", `{"command": ["echo", "ok"]}`); status != 200 || body["stdout"] != "ok\n" {
		t.Errorf("POST /execute with the token: %d %v", status, body)
	}

	anonymous := sidecarv1connect.NewSidecarServiceClient(&http.Client{Transport: sc.transport}, sc.url, connect.WithGRPC())
	if _, err := anonymous.Execute(ctx, connect.NewRequest(&sidecarv1.ExecuteRequest{Command: []string{"true"}})); connect.CodeOf(err) != connect.CodeUnauthenticated {
		t.Errorf("gRPC Execute without token: %v", err)
	}
	stream := anonymous.Interact(ctx)
	_ = stream.Send(&sidecarv1.InteractRequest{Event: &sidecarv1.InteractRequest_Start{Start: &sidecarv1.InteractStart{Command: []string{"cat"}}}})
	if _, err := stream.Receive(); connect.CodeOf(err) != connect.CodeUnauthenticated {
		t.Errorf("gRPC Interact without token: %v", err)
	}
	closeResponse(t, stream)
	if _, err := anonymous.Health(ctx, connect.NewRequest(&sidecarv1.HealthRequest{})); err != nil {
		t.Errorf("gRPC Health without token: %v", err)
	}
	health := grpchealth.NewClient(&http.Client{Transport: sc.transport}, sc.url, connect.WithGRPC())
	if resp, err := health.Check(ctx, &grpchealth.CheckRequest{}); err != nil || resp.Status != grpchealth.StatusServing {
		t.Errorf("grpc.health.v1 without token: %v %v", resp, err)
	}
	if _, err := sc.client(connect.WithGRPC()).Execute(ctx, connect.NewRequest(&sidecarv1.ExecuteRequest{Command: []string{"true"}})); err != nil {
		t.Errorf("gRPC Execute with token: %v", err)
	}
}
