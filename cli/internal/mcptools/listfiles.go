package mcptools

import (
	"context"
	"fmt"
	"strings"
	"time"

	"connectrpc.com/connect"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/arl-infra/arl/cli/internal/sandbox"
	sidecarv1 "github.com/arl-infra/arl/proto/gen/arl/sidecar/v1"
)

// ListFilesIn are list_files' arguments.
type ListFilesIn struct {
	Ref
	Path  string `json:"path,omitempty" jsonschema:"directory under /workspace to list (absolute or relative to /workspace; default /workspace)"`
	Depth int32  `json:"depth,omitempty" jsonschema:"levels to descend: 1 (default) lists the directory's own entries, 2 their children too, up to 5"`
}

// FileEntry is one entry of list_files.
type FileEntry struct {
	Path       string `json:"path"`
	Type       string `json:"type" jsonschema:"file, directory, symlink or other"`
	Size       int64  `json:"size" jsonschema:"bytes (files)"`
	Mode       string `json:"mode" jsonschema:"permission bits in octal, e.g. 0644"`
	ModifiedAt string `json:"modified_at" jsonschema:"last modification, RFC 3339"`
	Target     string `json:"symlink_target,omitempty"`
}

// ListFilesOut is list_files' result.
type ListFilesOut struct {
	Path      string      `json:"path"`
	Entries   []FileEntry `json:"entries"`
	Truncated bool        `json:"truncated" jsonschema:"true when the listing stopped at the server's cap; list a subdirectory"`
}

func (s *Server) listFiles(ctx context.Context, _ *mcp.CallToolRequest, in ListFilesIn) (*mcp.CallToolResult, ListFilesOut, error) {
	if in.Path == "" {
		in.Path = "/workspace"
	}
	p, err := workspacePath(in.Path)
	if err != nil {
		return nil, ListFilesOut{}, err
	}
	depth := in.Depth
	if depth <= 0 {
		depth = 1
	}
	if depth > 5 {
		return nil, ListFilesOut{}, fmt.Errorf("depth %d is too deep: use 1 to 5, and list subdirectories one by one", depth)
	}
	c, err := s.conn(ctx, in.Namespace, in.Sandbox)
	if err != nil {
		return nil, ListFilesOut{}, err
	}
	resp, err := c.Client.ListDir(ctx, connect.NewRequest(&sidecarv1.ListDirRequest{Path: p, Depth: depth}))
	if err != nil {
		if connect.CodeOf(err) == connect.CodeNotFound {
			return nil, ListFilesOut{}, fmt.Errorf("%s does not exist in sandbox %q: list /workspace to see what is there", p, in.Sandbox)
		}
		return nil, ListFilesOut{}, sandbox.Describe(in.Sandbox, err)
	}
	out := ListFilesOut{Path: p, Entries: []FileEntry{}, Truncated: resp.Msg.Truncated}
	for _, e := range resp.Msg.Entries {
		out.Entries = append(out.Entries, FileEntry{
			Path: e.Path, Type: strings.ToLower(strings.TrimPrefix(e.Type.String(), "FILE_TYPE_")), Size: e.Size,
			Mode: fmt.Sprintf("%04o", e.Mode), ModifiedAt: time.UnixMilli(e.ModifiedAtMs).UTC().Format(time.RFC3339),
			Target: e.SymlinkTarget,
		})
	}
	return nil, out, nil
}
