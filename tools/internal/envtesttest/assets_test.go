package envtesttest

import (
	"fmt"
	"os"
	"path/filepath"
)

// assetsDir returns KUBEBUILDER_ASSETS when set, else a temporary folder of
// links to <repo>/bin/arl-kube. The returned cleanup removes what it made.
func assetsDir() (string, func(), error) {
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
		return dir, func() {}, nil
	}
	repo, err := repoRoot()
	if err != nil {
		return "", nil, err
	}
	arlKube := filepath.Join(repo, "bin", "arl-kube")
	if _, err := os.Stat(arlKube); err != nil {
		return "", nil, fmt.Errorf("%s is missing: build it with `make envtest-assets` (or `bin/arl-local envtest-assets DIR`) and set KUBEBUILDER_ASSETS=DIR: %w", arlKube, err)
	}
	dir, err := os.MkdirTemp("", "arl-envtest-assets-")
	if err != nil {
		return "", nil, err
	}
	for _, name := range []string{"etcd", "kube-apiserver", "kubectl", "kube-controller-manager"} {
		if err := os.Symlink(arlKube, filepath.Join(dir, name)); err != nil {
			os.RemoveAll(dir)
			return "", nil, err
		}
	}
	return dir, func() { os.RemoveAll(dir) }, nil
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.work above the test's directory")
		}
		dir = parent
	}
}
