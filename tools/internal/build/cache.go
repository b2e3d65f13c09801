package build

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
)

// Key identifies a cached build of t: the Go version, target platform,
// flags, the module's go.mod and go.sum, and every non-test Go file in t's
// source directories. arl-kube's own package imports nothing else from its
// module, so these files are all the local code it is compiled from.
func (b *Builder) Key(t Target) (string, error) {
	h := sha256.New()
	goVersion, err := exec.Command("go", "env", "GOVERSION").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOVERSION (is Go 1.26.8 on PATH?): %w", err)
	}
	fmt.Fprintf(h, "go=%s os=%s arch=%s pkg=%s flags=-v ldflags=%s\n",
		strings.TrimSpace(string(goVersion)), runtime.GOOS, runtime.GOARCH, t.Package, t.LDFlags)
	if t.Tags != "" || len(t.Env) > 0 { // keeps the keys of targets without them unchanged
		fmt.Fprintf(h, "tags=%s env=%q\n", t.Tags, t.Env)
	}
	files := []string{filepath.Join(t.Module, "go.mod"), filepath.Join(t.Module, "go.sum")}
	for _, dir := range t.Sources {
		entries, err := os.ReadDir(filepath.Join(b.Repo, dir))
		if err != nil {
			return "", fmt.Errorf("read sources of %s: %w", t.Name, err)
		}
		for _, e := range entries {
			if !e.IsDir() && isBuildInput(e.Name()) {
				files = append(files, filepath.Join(dir, e.Name()))
			}
		}
	}
	sort.Strings(files)
	for _, rel := range files {
		f, err := os.Open(filepath.Join(b.Repo, rel))
		if err != nil {
			return "", fmt.Errorf("hash %s: %w", rel, err)
		}
		fmt.Fprintf(h, "file %s\n", filepath.ToSlash(rel))
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return "", fmt.Errorf("hash %s: %w", rel, err)
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:24], nil
}

// ensureCached keeps bin/<name> matching the current key: untouched when it
// already does, copied from the cache when the cache has the key, built
// (and then stored in the cache) otherwise.
func (b *Builder) ensureCached(ctx context.Context, t Target) (Outcome, error) {
	key, err := b.Key(t)
	if err != nil {
		return "", err
	}
	keyFile := filepath.Join(b.BinDir, "."+t.Name+".key")
	if _, err := os.Stat(b.Path(t)); err == nil {
		if old, err := os.ReadFile(keyFile); err == nil && strings.TrimSpace(string(old)) == key {
			return UpToDate, nil
		}
	}
	unlock, err := b.lockKey(t, key)
	if err != nil {
		return "", err
	}
	defer unlock()
	cached := ""
	if b.CacheDir != "" {
		cached = filepath.Join(b.CacheDir, t.Name+"-"+key)
	}
	outcome := Built
	if cached != "" && fileExists(cached) {
		if err := copyFile(cached, b.Path(t), 0o755); err != nil {
			return "", fmt.Errorf("restore %s from cache: %w", t.Name, err)
		}
		outcome = FromCache
	} else {
		if t.ColdBuild != "" {
			b.Progress("  %s: compiling %s (a cold build takes %s on 2 cores; later builds reuse Go's build cache and %s)", t.Name, t.Package, t.ColdBuild, displayCache(b.CacheDir))
		} else {
			b.Progress("  %s: compiling %s (cached in %s)", t.Name, t.Package, displayCache(b.CacheDir))
		}
		if err := b.compile(ctx, t); err != nil {
			return "", err
		}
		if cached != "" {
			b.store(t, cached)
		}
	}
	if err := os.WriteFile(keyFile, []byte(key+"\n"), 0o644); err != nil {
		return "", fmt.Errorf("write %s: %w", keyFile, err)
	}
	return outcome, nil
}

// store copies a fresh build into the cache. The cache is an optimisation:
// failing to write it is reported, never fatal.
func (b *Builder) store(t Target, cached string) {
	if err := os.MkdirAll(b.CacheDir, 0o755); err != nil {
		b.Progress("  warning: cannot create cache dir %s: %v", b.CacheDir, err)
		return
	}
	if err := copyFile(b.Path(t), cached, 0o755); err != nil {
		b.Progress("  warning: cannot store %s in cache: %v", t.Name, err)
		return
	}
	b.prune(t, cached)
}

// prune keeps the three newest cached builds of t.
func (b *Builder) prune(t Target, keep string) {
	matches, _ := filepath.Glob(filepath.Join(b.CacheDir, t.Name+"-*"))
	type entry struct {
		path string
		mod  int64
	}
	var entries []entry
	for _, m := range matches {
		if strings.HasSuffix(m, ".tmp") {
			continue
		}
		if info, err := os.Stat(m); err == nil {
			entries = append(entries, entry{m, info.ModTime().UnixNano()})
		}
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].mod > entries[j].mod })
	for i, e := range entries {
		if i >= 3 && e.path != keep {
			_ = os.Remove(e.path)
		}
	}
}

// DefaultCacheDir is $ARL_CACHE_DIR, else /var/cache/arl when it can be
// created and written, else ~/.cache/arl.
func DefaultCacheDir() string {
	if dir := os.Getenv("ARL_CACHE_DIR"); dir != "" {
		return dir
	}
	if writable("/var/cache/arl") {
		return "/var/cache/arl"
	}
	if dir, err := os.UserCacheDir(); err == nil {
		return filepath.Join(dir, "arl")
	}
	return ""
}

func writable(dir string) bool {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return false
	}
	f, err := os.CreateTemp(dir, ".probe-*")
	if err != nil {
		return false
	}
	name := f.Name()
	f.Close()
	_ = os.Remove(name)
	return true
}

func fileExists(path string) bool {
	info, err := os.Stat(path)
	return err == nil && info.Mode().IsRegular()
}

func displayCache(dir string) string {
	if dir == "" {
		return "no binary cache"
	}
	return "the binary cache in " + dir
}
