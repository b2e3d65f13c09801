// Package mcptools serves ARL sandboxes to MCP clients: tools to create,
// list and delete sandboxes, run commands, read and write files, run Task
// steps and signal processes. It only touches sandboxes it created or that
// carry the LabelExposed label (unless AllowAny), only in the allowed
// namespaces and pools, and deletes the sandboxes it created when it stops.
package mcptools

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/arl-infra/arl/cli/internal/kube"
	"github.com/arl-infra/arl/cli/internal/sandbox"
	"github.com/arl-infra/arl/cli/internal/transport"
	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

const (
	// LabelExposed ("true") lets the MCP server use a sandbox it did not
	// create. The server puts it on the sandboxes it creates.
	LabelExposed = "arl.infra.io/mcp"
	// LabelSession names the server process that created a sandbox.
	LabelSession = "arl.infra.io/mcp-session"
)

// Config is the server's policy.
type Config struct {
	Kube *kube.Clients
	Mode transport.Mode
	// Namespaces the server may use; the first is the default. Empty: the
	// kubeconfig's namespace only.
	Namespaces []string
	// Pools the server may create sandboxes from; empty: any.
	Pools []string
	// DefaultPool is used when create_sandbox names none.
	DefaultPool string
	// AllowAny lets the tools use every sandbox of the allowed namespaces.
	AllowAny bool
	// KeepSandboxes leaves created sandboxes on exit (their idle timeout
	// deletes them).
	KeepSandboxes bool
	// DefaultTTLSeconds is the idleTimeoutSeconds of created sandboxes.
	DefaultTTLSeconds int32
	// OutputLimit caps stdout and stderr returned by run_command, in bytes.
	OutputLimit int
	// Version is reported to clients.
	Version string
}

// Server holds the policy, the sandboxes created and open sidecar clients.
type Server struct {
	cfg     Config
	session string

	mu      sync.Mutex
	created map[client.ObjectKey]bool
	conns   map[client.ObjectKey]*sandbox.Conn
}

// New checks the config and returns a server.
func New(cfg Config) (*Server, error) {
	if len(cfg.Namespaces) == 0 {
		ns, err := cfg.Kube.Namespace()
		if err != nil {
			return nil, err
		}
		cfg.Namespaces = []string{ns}
	}
	if cfg.DefaultPool == "" && len(cfg.Pools) > 0 {
		cfg.DefaultPool = cfg.Pools[0]
	}
	if cfg.DefaultTTLSeconds <= 0 {
		cfg.DefaultTTLSeconds = 1800
	}
	if cfg.OutputLimit <= 0 {
		cfg.OutputLimit = 64 << 10
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return &Server{
		cfg:     cfg,
		session: hex.EncodeToString(b),
		created: map[client.ObjectKey]bool{},
		conns:   map[client.ObjectKey]*sandbox.Conn{},
	}, nil
}

// instructions tell the model how the tools fit together.
const instructions = `ARL sandboxes are isolated Linux workspaces on Kubernetes for running code.
Typical flow: create_sandbox (returns its name) -> write_file into /workspace -> run_command
(for example "python /workspace/hello.py") -> read_file / list_files -> delete_sandbox when done.
Files live under /workspace; paths may be relative to it. Each sandbox keeps its files and
processes between calls until it is deleted or idle for its ttl.`

// MCPServer builds the MCP server with every tool.
func (s *Server) MCPServer() *mcp.Server {
	srv := mcp.NewServer(&mcp.Implementation{Name: "arl", Title: "ARL sandboxes", Version: s.cfg.Version},
		&mcp.ServerOptions{Instructions: instructions})
	s.addTools(srv)
	return srv
}

// Cleanup deletes the sandboxes this server created (unless KeepSandboxes)
// and closes the sidecar clients.
func (s *Server) Cleanup(ctx context.Context) error {
	s.mu.Lock()
	created := make([]client.ObjectKey, 0, len(s.created))
	for k := range s.created {
		created = append(created, k)
	}
	for k, c := range s.conns {
		c.Close()
		delete(s.conns, k)
	}
	s.mu.Unlock()
	if s.cfg.KeepSandboxes {
		return nil
	}
	cl, err := s.cfg.Kube.Client()
	if err != nil {
		return err
	}
	var errs []error
	for _, k := range created {
		err := sandbox.Delete(ctx, cl, k.Namespace, k.Name, false)
		var nf *sandbox.NotFoundError
		if err != nil && !errors.As(err, &nf) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// namespace picks the namespace of a call: the default or an allowed one.
func (s *Server) namespace(ns string) (string, error) {
	if ns == "" {
		return s.cfg.Namespaces[0], nil
	}
	if !slices.Contains(s.cfg.Namespaces, ns) {
		return "", fmt.Errorf("namespace %q is not allowed; allowed: %v (omit namespace to use %q)", ns, s.cfg.Namespaces, s.cfg.Namespaces[0])
	}
	return ns, nil
}

// allowed says whether the tools may use sb.
func (s *Server) allowed(sb *arlv1.Sandbox) bool {
	if s.cfg.AllowAny || sb.Labels[LabelExposed] == "true" {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.created[client.ObjectKeyFromObject(sb)]
}

// target finds a sandbox the tools may use and checks that it is Ready.
func (s *Server) target(ctx context.Context, ns, name string) (*sandbox.Target, error) {
	if name == "" {
		return nil, errors.New("sandbox is required: pass the name create_sandbox returned (list_sandboxes shows them)")
	}
	ns, err := s.namespace(ns)
	if err != nil {
		return nil, err
	}
	cl, err := s.cfg.Kube.Client()
	if err != nil {
		return nil, err
	}
	sb, err := sandbox.Get(ctx, cl, ns, name)
	if err != nil {
		var nf *sandbox.NotFoundError
		if errors.As(err, &nf) {
			return nil, fmt.Errorf("sandbox %q does not exist in namespace %q: call list_sandboxes to see the available ones, or create_sandbox", name, ns)
		}
		return nil, err
	}
	if !s.allowed(sb) {
		return nil, fmt.Errorf("sandbox %q was not created by this MCP server and is not labelled %s=true, so it may not be used; create your own with create_sandbox", name, LabelExposed)
	}
	if err := sandbox.CheckReady(sb); err != nil {
		return nil, err
	}
	token, err := sandbox.Token(ctx, cl, ns, sb.Status.PodName)
	if err != nil {
		return nil, err
	}
	return &sandbox.Target{Sandbox: sb, Token: token}, nil
}

// conn returns a (cached) sidecar client for a usable sandbox.
func (s *Server) conn(ctx context.Context, ns, name string) (*sandbox.Conn, error) {
	t, err := s.target(ctx, ns, name)
	if err != nil {
		return nil, err
	}
	key := client.ObjectKeyFromObject(t.Sandbox)
	s.mu.Lock()
	c, ok := s.conns[key]
	s.mu.Unlock()
	if ok && c.Target.Sandbox.Status.PodName == t.Sandbox.Status.PodName && c.Target.Token == t.Token {
		return c, nil
	}
	if ok {
		c.Close()
	}
	c, err = sandbox.Connect(ctx, s.cfg.Kube, s.cfg.Mode, t)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.conns[key] = c
	s.mu.Unlock()
	return c, nil
}

// forget drops a cached client (after its sandbox was deleted).
func (s *Server) forget(key client.ObjectKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.conns[key]; ok {
		c.Close()
		delete(s.conns, key)
	}
	delete(s.created, key)
}
