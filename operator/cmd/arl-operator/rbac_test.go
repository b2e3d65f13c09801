package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/arl-infra/arl/operator/internal/testenv"
)

const operatorServiceAccount = "system:serviceaccount:arl-system:arl-operator"

// installRBAC creates the objects of config/rbac (the ServiceAccount, the
// generated ClusterRole and the namespaced Roles, with their bindings).
func installRBAC(ctx context.Context, c client.Client) error {
	dir := filepath.Join(testenv.OperatorDir(), "config", "rbac")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".yaml") || e.Name() == "kustomization.yaml" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return err
		}
		dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
		for {
			obj := &unstructured.Unstructured{}
			if err := dec.Decode(&obj.Object); err != nil {
				if errors.Is(err, io.EOF) {
					break
				}
				return fmt.Errorf("decode %s: %w", e.Name(), err)
			}
			if len(obj.Object) == 0 {
				continue
			}
			if err := c.Create(ctx, obj); err != nil {
				return fmt.Errorf("create %s from %s: %w", obj.GetName(), e.Name(), err)
			}
		}
	}
	return nil
}

// kubeconfigAs rewrites kubeconfig so every call impersonates the
// operator's ServiceAccount: the operator then runs with exactly the
// permissions of config/rbac.
func kubeconfigAs(kubeconfig []byte, user string) ([]byte, error) {
	cfg, err := clientcmd.Load(kubeconfig)
	if err != nil {
		return nil, err
	}
	for _, auth := range cfg.AuthInfos {
		auth.Impersonate = user
		auth.ImpersonateGroups = []string{"system:serviceaccounts", "system:serviceaccounts:arl-system", "system:authenticated"}
	}
	return clientcmd.Write(*cfg)
}
