// Package controller holds one package per controller; this test keeps them
// siblings: no controller package imports another, so shared parts live in
// their own packages (internal/poolpod, internal/indexer, ...).
package controller

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const controllersImportPath = "github.com/arl-infra/arl/operator/internal/controller/"

// TestNoControllerPackageImportsAnother parses every non-test Go file of the
// controller packages and fails on an import of a sibling controller
// package. Test files may wire several controllers into one envtest suite.
func TestNoControllerPackageImportsAnother(t *testing.T) {
	dirs, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		files, err := filepath.Glob(filepath.Join(d.Name(), "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, file := range files {
			if strings.HasSuffix(file, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatalf("parse %s: %v", file, err)
			}
			checked++
			for _, imp := range f.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				if other, ok := strings.CutPrefix(path, controllersImportPath); ok {
					t.Errorf("%s imports controller package %q: move the shared part into its own package under internal/", file, other)
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("found no controller source files to check")
	}
}
