package build

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"
)

// Builder builds targets of one repository into its bin directory.
type Builder struct {
	Repo     string // repository root
	BinDir   string // output directory, usually <repo>/bin
	CacheDir string // content-keyed cache of the control plane ("" disables it)
	// Progress receives one line per step; it prefixes elapsed time.
	Progress func(format string, args ...any)
	// Force rebuilds every non-cached target even if it looks up to date
	// (go's own build cache still makes that quick).
	Force bool
}

// Outcome says what Ensure did.
type Outcome string

const (
	UpToDate  Outcome = "up to date"
	Built     Outcome = "built"
	FromCache Outcome = "restored from cache"
	Skipped   Outcome = "skipped"
)

// Path is where target t's binary lives.
func (b *Builder) Path(t Target) string { return filepath.Join(b.BinDir, t.Name) }

// Ensure makes t's binary present and current in the bin directory.
func (b *Builder) Ensure(ctx context.Context, t Target) (Outcome, error) {
	pkgDir := filepath.Join(b.Repo, t.Module, filepath.FromSlash(t.Package))
	if _, err := os.Stat(pkgDir); err != nil && t.local() {
		if t.Optional {
			return Skipped, nil
		}
		return "", fmt.Errorf("%s: package %s missing: %w", t.Name, pkgDir, err)
	}
	if err := os.MkdirAll(b.BinDir, 0o755); err != nil {
		return "", fmt.Errorf("create %s: %w", b.BinDir, err)
	}
	var (
		outcome Outcome
		err     error
	)
	if t.Cached {
		outcome, err = b.ensureCached(ctx, t)
	} else {
		outcome, err = b.ensureFresh(ctx, t)
	}
	if err != nil {
		return "", err
	}
	return outcome, b.link(t)
}

// ensureFresh rebuilds t when its binary is missing or older than any of
// its source files.
func (b *Builder) ensureFresh(ctx context.Context, t Target) (Outcome, error) {
	if !b.Force {
		stale, err := b.stale(t)
		if err != nil {
			return "", err
		}
		if !stale {
			return UpToDate, nil
		}
	}
	if err := b.compile(ctx, t); err != nil {
		return "", err
	}
	return Built, nil
}

func (b *Builder) stale(t Target) (bool, error) {
	bin, err := os.Stat(b.Path(t))
	if errors.Is(err, os.ErrNotExist) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("stat %s: %w", b.Path(t), err)
	}
	newest, err := newestSource(b.Repo, t.Sources)
	if err != nil {
		return false, err
	}
	return newest.After(bin.ModTime()), nil
}

// compile runs go build for t into a temporary file and renames it into
// place, so a failed or interrupted build never leaves a broken binary.
func (b *Builder) compile(ctx context.Context, t Target) error {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("building %s needs the Go toolchain (go 1.26.8) on PATH: %w", t.Name, err)
	}
	tmp := b.Path(t) + ".tmp"
	// No -trimpath: the same flags as a plain `go build`/`go test` in the
	// module, so those reuse the compiled packages of an earlier up.
	args := []string{"build", "-v", "-o", tmp}
	if t.LDFlags != "" {
		args = append(args, "-ldflags", t.LDFlags)
	}
	if t.Tags != "" {
		args = append(args, "-tags", t.Tags)
	}
	args = append(args, t.Package)
	cmd := exec.CommandContext(ctx, goBin, args...)
	cmd.Dir = filepath.Join(b.Repo, t.Module)
	cmd.Env = append(append(os.Environ(), "GOFLAGS=-buildvcs=false"), t.Env...)
	if t.Cached || !inWorkspace(b.Repo, t.Module) {
		cmd.Env = append(cmd.Env, "GOWORK=off")
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return fmt.Errorf("build %s: %w", t.Name, err)
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("build %s: %w", t.Name, err)
	}
	var compiled atomic.Int64
	var tail tailBuffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			if isPackageLine(line) {
				compiled.Add(1)
			} else {
				tail.add(line)
			}
		}
	}()
	stopTicker := b.tick(t.Name, start, &compiled)
	<-done
	err = cmd.Wait()
	stopTicker()
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("go build %s in %s: %w\n%s", t.Package, cmd.Dir, err, tail.String())
	}
	if err := os.Rename(tmp, b.Path(t)); err != nil {
		return fmt.Errorf("install %s: %w", t.Name, err)
	}
	return nil
}

// tick prints a progress line every 15 s while a build runs.
func (b *Builder) tick(name string, start time.Time, compiled *atomic.Int64) func() {
	ticker := time.NewTicker(15 * time.Second)
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-ticker.C:
				b.Progress("  %s: still compiling, %d packages built so far (%s)", name, compiled.Load(), time.Since(start).Round(time.Second))
			case <-stop:
				return
			}
		}
	}()
	return func() { ticker.Stop(); close(stop) }
}

// link points each of t's link names in bin/ at the binary.
func (b *Builder) link(t Target) error {
	for _, name := range t.Links {
		path := filepath.Join(b.BinDir, name)
		if dest, err := os.Readlink(path); err == nil && dest == t.Name {
			continue
		}
		_ = os.Remove(path)
		if err := os.Symlink(t.Name, path); err != nil {
			return fmt.Errorf("link %s -> %s: %w", path, t.Name, err)
		}
	}
	return nil
}

// isPackageLine tells go build -v's package names from compiler output.
func isPackageLine(line string) bool {
	return line != "" && !strings.ContainsAny(line, " \t:") && !strings.HasPrefix(line, "#")
}

// tailBuffer keeps the last lines of non-progress output for error reports.
type tailBuffer struct{ lines []string }

func (t *tailBuffer) add(line string) {
	t.lines = append(t.lines, line)
	if len(t.lines) > 40 {
		t.lines = t.lines[len(t.lines)-40:]
	}
}

func (t *tailBuffer) String() string { return strings.Join(t.lines, "\n") }

// copyFile copies src to dst through a temporary file.
func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("open %s: %w", src, err)
	}
	defer in.Close()
	tmp := dst + ".tmp"
	out, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, mode)
	if err != nil {
		return fmt.Errorf("create %s: %w", tmp, err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		_ = os.Remove(tmp)
		return fmt.Errorf("copy %s to %s: %w", src, tmp, err)
	}
	if err := out.Close(); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("close %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		return fmt.Errorf("rename %s: %w", tmp, err)
	}
	return nil
}
