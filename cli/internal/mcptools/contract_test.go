package mcptools

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/arl-infra/arl/cli/internal/kube"
	"github.com/arl-infra/arl/cli/internal/transport"
)

// wantTools are the tools the issue asks for, with their required arguments.
var wantTools = map[string][]string{
	"create_sandbox": nil,
	"list_sandboxes": nil,
	"delete_sandbox": {"sandbox"},
	"run_command":    {"sandbox", "command"},
	"write_file":     {"sandbox", "path", "content"},
	"read_file":      {"sandbox", "path"},
	"list_files":     {"sandbox"},
	"run_steps":      {"sandbox", "steps"},
	"signal_process": {"sandbox", "pid"},
}

// session connects a Go SDK client to a server over in-memory transports.
// The server has no cluster behind it: only calls refused before any API
// request can be made here.
func session(t *testing.T) *mcp.ClientSession {
	t.Helper()
	srv, err := New(Config{Kube: kube.NewClients(genericclioptions.NewConfigFlags(false)), Mode: transport.Direct,
		Namespaces: []string{"default"}, Pools: []string{"python-pool"}})
	if err != nil {
		t.Fatal(err)
	}
	ct, st := mcp.NewInMemoryTransports()
	ss, err := srv.MCPServer().Connect(t.Context(), st, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ss.Close() })
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "contract-test", Version: "v0"}, nil).Connect(t.Context(), ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cs.Close() })
	return cs
}

func TestToolsContract(t *testing.T) {
	cs := session(t)
	res, err := cs.ListTools(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range res.Tools {
		names = append(names, tool.Name)
		t.Run(tool.Name, func(t *testing.T) {
			if len(tool.Description) < 40 {
				t.Errorf("description too short for a model to follow: %q", tool.Description)
			}
			for which, raw := range map[string]any{"input": tool.InputSchema, "output": tool.OutputSchema} {
				data, err := json.Marshal(raw)
				if err != nil {
					t.Fatal(err)
				}
				var s jsonschema.Schema
				if err := json.Unmarshal(data, &s); err != nil {
					t.Fatalf("%s schema is not a JSON schema: %v", which, err)
				}
				if _, err := s.Resolve(nil); err != nil {
					t.Fatalf("%s schema does not resolve: %v", which, err)
				}
				if s.Type != "object" {
					t.Errorf("%s schema type %q, want object", which, s.Type)
				}
				if which == "input" {
					for name, prop := range s.Properties {
						if strings.TrimSpace(prop.Description) == "" {
							t.Errorf("argument %q has no description", name)
						}
					}
					req := slices.Clone(s.Required)
					slices.Sort(req)
					want := slices.Clone(wantTools[tool.Name])
					slices.Sort(want)
					if !slices.Equal(req, want) {
						t.Errorf("required arguments %v, want %v", req, want)
					}
				}
			}
		})
	}
	for name := range wantTools {
		if !slices.Contains(names, name) {
			t.Errorf("tool %s is missing (have %v)", name, names)
		}
	}
}

// callErr calls a tool and returns the text of its tool error.
func callErr(t *testing.T, cs *mcp.ClientSession, name string, args map[string]any) string {
	t.Helper()
	res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("%s: protocol error %v (want a tool error)", name, err)
	}
	if !res.IsError {
		t.Fatalf("%s(%v) succeeded; want a tool error", name, args)
	}
	var text strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			text.WriteString(tc.Text)
		}
	}
	return text.String()
}

func TestToolErrorsAreActionable(t *testing.T) {
	cs := session(t)
	cases := []struct {
		tool string
		args map[string]any
		want string
	}{
		{"write_file", map[string]any{"sandbox": "sb", "path": "/etc/passwd", "content": "x"}, "outside the workspace"},
		{"read_file", map[string]any{"sandbox": "sb", "path": "../../etc/shadow"}, "outside the workspace"},
		{"run_command", map[string]any{"sandbox": "sb", "command": "ls", "cwd": "/root"}, "outside the workspace"},
		{"create_sandbox", map[string]any{"pool": "other-pool"}, "not allowed; allowed pools: [python-pool]"},
		{"list_sandboxes", map[string]any{"namespace": "kube-system"}, `namespace "kube-system" is not allowed`},
		{"run_steps", map[string]any{"sandbox": "sb", "steps": []any{map[string]any{"name": "w", "type": "FilePatch", "path": "/tmp/x"}}}, "outside the workspace"},
		{"signal_process", map[string]any{"sandbox": "sb", "pid": 0}, "pid is required"},
		{"list_files", map[string]any{"sandbox": "sb", "path": "/etc"}, "outside the workspace"},
		{"run_command", map[string]any{"sandbox": "sb"}, "command"},
	}
	for _, c := range cases {
		if got := callErr(t, cs, c.tool, c.args); !strings.Contains(got, c.want) {
			t.Errorf("%s(%v): error %q lacks %q", c.tool, c.args, got, c.want)
		}
	}
}

func TestWorkspacePath(t *testing.T) {
	for in, want := range map[string]string{"hello.py": "/workspace/hello.py", "/workspace/a/../b": "/workspace/b", "/workspace": "/workspace", "./x/y": "/workspace/x/y"} {
		if got, err := workspacePath(in); err != nil || got != want {
			t.Errorf("workspacePath(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "/etc/passwd", "../x", "/workspace/../etc", "/workspacefoo/x"} {
		if _, err := workspacePath(bad); err == nil {
			t.Errorf("workspacePath(%q) accepted", bad)
		}
	}
}
