package build

import (
	"path/filepath"
	"sync"
	"testing"
)

// Two processes sharing a cache (two worktrees, say) ask for the same target
// at once: one compiles, the other waits on the key's lock and restores the
// result from the cache.
func TestConcurrentEnsureBuildsOnce(t *testing.T) {
	repo := t.TempDir()
	writeFile(t, filepath.Join(repo, "m/go.mod"), "module m\n\ngo 1.26\n")
	writeFile(t, filepath.Join(repo, "m/go.sum"), "")
	writeFile(t, filepath.Join(repo, "m/cmd/x/main.go"), "package main\n\nfunc main() {}\n")
	cache := filepath.Join(repo, "cache")
	target := Target{Name: "x", Module: "m", Package: "./cmd/x", Sources: []string{"m/cmd/x"}, Cached: true}

	outcomes := make([]Outcome, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range 2 {
		b := &Builder{Repo: repo, BinDir: filepath.Join(repo, "bin", string(rune('a'+i))), CacheDir: cache,
			Progress: func(string, ...any) {}}
		wg.Add(1)
		go func() {
			defer wg.Done()
			outcomes[i], errs[i] = b.Ensure(t.Context(), target)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("builder %d: %v", i, err)
		}
	}
	built, restored := 0, 0
	for _, o := range outcomes {
		switch o {
		case Built:
			built++
		case FromCache:
			restored++
		}
	}
	if built != 1 || restored != 1 {
		t.Fatalf("outcomes = %v, want one %s and one %s", outcomes, Built, FromCache)
	}
}
