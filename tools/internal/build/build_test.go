package build

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestKeyChangesWithSourcesOnly(t *testing.T) {
	repo := t.TempDir()
	writeFile(t, filepath.Join(repo, "m/go.mod"), "module m\n")
	writeFile(t, filepath.Join(repo, "m/go.sum"), "")
	writeFile(t, filepath.Join(repo, "m/cmd/x/main.go"), "package main\n")
	writeFile(t, filepath.Join(repo, "m/cmd/x/main_test.go"), "package main\n")
	b := &Builder{Repo: repo}
	target := Target{Name: "x", Module: "m", Package: "./cmd/x", Sources: []string{"m/cmd/x"}}
	k1, err := b.Key(target)
	if err != nil {
		t.Fatal(err)
	}
	if k2, _ := b.Key(target); k2 != k1 {
		t.Fatalf("key not stable: %s vs %s", k1, k2)
	}
	writeFile(t, filepath.Join(repo, "m/cmd/x/main_test.go"), "package main // changed\n")
	if k, _ := b.Key(target); k != k1 {
		t.Fatal("a test file changed the key")
	}
	writeFile(t, filepath.Join(repo, "m/go.sum"), "example.com/y v1.0.0 h1:abc\n")
	k3, _ := b.Key(target)
	if k3 == k1 {
		t.Fatal("go.sum change kept the key")
	}
	target.LDFlags = "-s"
	if k, _ := b.Key(target); k == k3 {
		t.Fatal("ldflags change kept the key")
	}
}

func TestEnsureCachedRestoresFromCacheWithoutBuilding(t *testing.T) {
	repo := t.TempDir()
	writeFile(t, filepath.Join(repo, "m/go.mod"), "module m\n")
	writeFile(t, filepath.Join(repo, "m/go.sum"), "")
	writeFile(t, filepath.Join(repo, "m/cmd/x/main.go"), "package main\n\nfunc main() {}\n")
	var lines []string
	b := &Builder{Repo: repo, BinDir: filepath.Join(repo, "bin"), CacheDir: filepath.Join(repo, "cache"),
		Progress: func(f string, a ...any) { lines = append(lines, f) }}
	target := Target{Name: "x", Module: "m", Package: "./cmd/x", Sources: []string{"m/cmd/x"}, Cached: true, Links: []string{"y"}}
	key, err := b.Key(target)
	if err != nil {
		t.Fatal(err)
	}
	// A cache entry that is not a real build proves Ensure copied it.
	writeFile(t, filepath.Join(b.CacheDir, "x-"+key), "cached-binary")
	outcome, err := b.Ensure(t.Context(), target)
	if err != nil {
		t.Fatal(err)
	}
	if outcome != FromCache {
		t.Fatalf("outcome = %s, want %s", outcome, FromCache)
	}
	if data, _ := os.ReadFile(b.Path(target)); string(data) != "cached-binary" {
		t.Fatalf("bin/x = %q", data)
	}
	if dest, err := os.Readlink(filepath.Join(b.BinDir, "y")); err != nil || dest != "x" {
		t.Fatalf("link y -> %q, %v", dest, err)
	}
	if outcome, _ := b.Ensure(t.Context(), target); outcome != UpToDate {
		t.Fatalf("second Ensure = %s, want %s", outcome, UpToDate)
	}
}

func TestEnsureFreshBuildsWhenSourcesAreNewer(t *testing.T) {
	repo := t.TempDir()
	writeFile(t, filepath.Join(repo, "m/go.mod"), "module m\n\ngo 1.26\n")
	writeFile(t, filepath.Join(repo, "m/cmd/x/main.go"), "package main\n\nfunc main() {}\n")
	b := &Builder{Repo: repo, BinDir: filepath.Join(repo, "bin"), Progress: func(string, ...any) {}}
	target := Target{Name: "x", Module: "m", Package: "./cmd/x", Sources: []string{"m"}}
	if outcome, err := b.Ensure(t.Context(), target); err != nil || outcome != Built {
		t.Fatalf("first Ensure = %s, %v; want built", outcome, err)
	}
	if outcome, err := b.Ensure(t.Context(), target); err != nil || outcome != UpToDate {
		t.Fatalf("second Ensure = %s, %v; want up to date", outcome, err)
	}
	future := time.Now().Add(time.Minute)
	if err := os.Chtimes(filepath.Join(repo, "m/cmd/x/main.go"), future, future); err != nil {
		t.Fatal(err)
	}
	if outcome, err := b.Ensure(t.Context(), target); err != nil || outcome != Built {
		t.Fatalf("Ensure after edit = %s, %v; want built", outcome, err)
	}
}

func TestOptionalTargetWithoutPackageIsSkipped(t *testing.T) {
	b := &Builder{Repo: t.TempDir(), BinDir: t.TempDir()}
	outcome, err := b.Ensure(t.Context(), Target{Name: "x", Module: "m", Package: "./cmd/x", Optional: true})
	if err != nil || outcome != Skipped {
		t.Fatalf("Ensure = %s, %v; want skipped", outcome, err)
	}
}

func TestInWorkspace(t *testing.T) {
	repo := t.TempDir()
	writeFile(t, filepath.Join(repo, "go.work"), "go 1.26.8\n\nuse (\n\t./e2e\n\t./tools\n)\n")
	for module, want := range map[string]bool{"tools": true, "e2e": true, "tools/node": false, "sidecar": false} {
		if got := inWorkspace(repo, module); got != want {
			t.Errorf("inWorkspace(%s) = %v, want %v", module, got, want)
		}
	}
}

func TestIsPackageLine(t *testing.T) {
	for line, want := range map[string]bool{
		"k8s.io/api/core/v1":            true,
		"# k8s.io/foo":                  false,
		"./main.go:3:2: undefined: x":   false,
		"":                              false,
		"go: downloading k8s.io/x v0.1": false,
	} {
		if got := isPackageLine(line); got != want {
			t.Errorf("isPackageLine(%q) = %v, want %v", line, got, want)
		}
	}
}
