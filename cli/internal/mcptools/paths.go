package mcptools

import (
	"fmt"
	"path"
	"strings"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

// workspacePath resolves p (absolute, or relative to /workspace) and
// refuses anything outside the workspace.
func workspacePath(p string) (string, error) {
	if strings.TrimSpace(p) == "" {
		return "", fmt.Errorf("path is required: a file under %s, e.g. %s/hello.py", arlv1.DefaultWorkDir, arlv1.DefaultWorkDir)
	}
	if !path.IsAbs(p) {
		p = path.Join(arlv1.DefaultWorkDir, p)
	}
	clean := path.Clean(p)
	if clean != arlv1.DefaultWorkDir && !strings.HasPrefix(clean, arlv1.DefaultWorkDir+"/") {
		return "", fmt.Errorf("path %q is outside the workspace: use a path under %s (relative paths are taken from there), e.g. %s/hello.py",
			p, arlv1.DefaultWorkDir, arlv1.DefaultWorkDir)
	}
	return clean, nil
}
