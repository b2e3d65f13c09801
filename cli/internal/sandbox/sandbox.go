// Package sandbox finds a Sandbox, checks that it can run commands, reads
// its sidecar token from the pod's Secret (with the caller's RBAC) and opens
// a Connect client to its sidecar.
package sandbox

import (
	"context"
	"fmt"
	"net/http"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/arl-infra/arl/cli/internal/kube"
	"github.com/arl-infra/arl/cli/internal/sidecarrpc"
	"github.com/arl-infra/arl/cli/internal/transport"
	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
	"github.com/arl-infra/arl/proto/gen/arl/sidecar/v1/sidecarv1connect"
)

// Target is a Ready sandbox and what it takes to call its sidecar.
type Target struct {
	Sandbox *arlv1.Sandbox
	// Token is the sidecar's bearer token; empty when the pool runs its
	// sidecars without auth (its pod has no token Secret).
	Token string
}

// NotReadyError says why a sandbox cannot run commands yet.
type NotReadyError struct {
	Namespace, Name string
	Phase           arlv1.SandboxPhase
	Reason, Message string
}

func (e *NotReadyError) Error() string {
	msg := fmt.Sprintf("sandbox %q in namespace %q is not Ready (phase %s", e.Name, e.Namespace, orDash(string(e.Phase)))
	if e.Reason != "" {
		msg += ", reason " + e.Reason
	}
	msg += ")"
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if e.Phase == arlv1.SandboxPhaseFailed {
		return msg + "; it will not recover: delete it and create another"
	}
	return msg + "; wait for it with `kubectl arl create --wait` or `kubectl wait --for=jsonpath='{.status.phase}'=Ready sandbox/" + e.Name + "`"
}

// NotFoundError says that no such sandbox exists.
type NotFoundError struct{ Namespace, Name string }

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("sandbox %q not found in namespace %q (list them with `kubectl arl sandboxes -n %s`)", e.Name, e.Namespace, e.Namespace)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Get reads a sandbox, with a clear error when it does not exist.
func Get(ctx context.Context, c client.Client, namespace, name string) (*arlv1.Sandbox, error) {
	sb := &arlv1.Sandbox{}
	if err := c.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, sb); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, &NotFoundError{Namespace: namespace, Name: name}
		}
		return nil, fmt.Errorf("reading sandbox %s/%s: %w", namespace, name, err)
	}
	return sb, nil
}

// CheckReady returns a NotReadyError unless the sandbox's pod is Ready.
func CheckReady(sb *arlv1.Sandbox) error {
	if sb.Status.Phase == arlv1.SandboxPhaseReady && sb.Status.PodName != "" {
		return nil
	}
	e := &NotReadyError{Namespace: sb.Namespace, Name: sb.Name, Phase: sb.Status.Phase}
	if c := meta.FindStatusCondition(sb.Status.Conditions, arlv1.SandboxConditionReady); c != nil {
		e.Reason, e.Message = c.Reason, c.Message
	}
	return e
}

// Resolve finds a Ready sandbox and its token.
func Resolve(ctx context.Context, c client.Client, namespace, name string) (*Target, error) {
	sb, err := Get(ctx, c, namespace, name)
	if err != nil {
		return nil, err
	}
	if err := CheckReady(sb); err != nil {
		return nil, err
	}
	token, err := Token(ctx, c, namespace, sb.Status.PodName)
	if err != nil {
		return nil, err
	}
	return &Target{Sandbox: sb, Token: token}, nil
}

// Token reads the sidecar token of a pool pod from its Secret. A missing
// Secret means the pool runs without sidecar auth.
func Token(ctx context.Context, c client.Client, namespace, podName string) (string, error) {
	secret := &corev1.Secret{}
	key := types.NamespacedName{Namespace: namespace, Name: arlv1.SidecarTokenSecretName(podName)}
	if err := c.Get(ctx, key, secret); err != nil {
		if apierrors.IsNotFound(err) {
			return "", nil
		}
		if apierrors.IsForbidden(err) {
			return "", fmt.Errorf("reading the sidecar token (Secret %s/%s): %w; the plugin needs RBAC get on secrets in this namespace", namespace, key.Name, err)
		}
		return "", fmt.Errorf("reading the sidecar token (Secret %s/%s): %w", namespace, key.Name, err)
	}
	return string(secret.Data[arlv1.SidecarTokenSecretKey]), nil
}

// Conn is an open Connect client to one sandbox's sidecar.
type Conn struct {
	Target   *Target
	Endpoint *transport.Endpoint
	Client   sidecarv1connect.SidecarServiceClient
	http     *http.Client
}

// Close releases the connections and any port-forward.
func (c *Conn) Close() {
	c.http.CloseIdleConnections()
	c.Endpoint.Close()
}

// Dial resolves a Ready sandbox and opens its sidecar, directly or through a
// port-forward as mode says.
func Dial(ctx context.Context, k *kube.Clients, mode transport.Mode, namespace, name string) (*Conn, error) {
	cl, err := k.Client()
	if err != nil {
		return nil, err
	}
	target, err := Resolve(ctx, cl, namespace, name)
	if err != nil {
		return nil, err
	}
	return Connect(ctx, k, mode, target)
}

// Connect opens the sidecar of a resolved target.
func Connect(ctx context.Context, k *kube.Clients, mode transport.Mode, target *Target) (*Conn, error) {
	pod := transport.Pod{
		Namespace: target.Sandbox.Namespace, Name: target.Sandbox.Status.PodName,
		IP: target.Sandbox.Status.PodIP, Port: arlv1.SidecarHTTPPort,
	}
	var ep *transport.Endpoint
	var err error
	if mode == transport.Direct {
		ep, err = transport.Open(ctx, mode, pod, nil, nil)
	} else {
		cfg, cerr := k.Config()
		if cerr != nil {
			return nil, cerr
		}
		core, cerr := k.CoreREST()
		if cerr != nil {
			return nil, cerr
		}
		ep, err = transport.Open(ctx, mode, pod, cfg, core)
	}
	if err != nil {
		return nil, fmt.Errorf("reaching sandbox %q: %w", target.Sandbox.Name, err)
	}
	cl, hc := sidecarrpc.NewClient(ep.Dial, ep.Address, target.Token)
	return &Conn{Target: target, Endpoint: ep, Client: cl, http: hc}, nil
}

// Describe turns a sidecar error into a message that says what to do.
func Describe(name string, err error) error { return sidecarrpc.Describe(name, err) }
