package cluster

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// PythonStandInImage is the name the manual's pools use. On the real node
// it is a stand-in built here from Debian's own packages (python3 3.11,
// bash, coreutils), not the Docker Hub image: no public registry is
// reachable from these machines. Its Python is Debian's 3.11, not 3.9.
const PythonStandInImage = "docker.io/library/python:3.9-slim"

// pythonRoots are the Debian packages the stand-in starts from; their
// dependencies are added, minus pythonSkip.
var pythonRoots = []string{"base-files", "base-passwd", "bash", "dash", "coreutils", "grep", "sed", "findutils", "python3"}

// pythonSkip are dependencies a slim image does without: perl (pulled in by
// mime-support's mailcap), dpkg and what only maintainer scripts use.
var pythonSkip = map[string]bool{
	"perl": true, "perl-base": true, "perl-modules-5.36": true, "libperl5.36": true, "libgdbm-compat4": true,
	"dpkg": true, "install-info": true, "mailcap": true, "tar": true, "debconf": true,
}

// pythonPackages resolves the stand-in's package list with apt-cache and
// returns it with a key naming the exact versions.
func pythonPackages(ctx context.Context) ([]string, string, error) {
	args := append([]string{"depends", "--recurse", "--no-recommends", "--no-suggests", "--no-conflicts",
		"--no-breaks", "--no-replaces", "--no-enhances"}, pythonRoots...)
	out, err := exec.CommandContext(ctx, "apt-cache", args...).Output()
	if err != nil {
		return nil, "", fmt.Errorf("apt-cache depends (apt-get update first?): %w", err)
	}
	set := map[string]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		if line == "" || strings.HasPrefix(line, " ") || strings.HasPrefix(line, "<") || pythonSkip[line] {
			continue
		}
		set[line] = true
	}
	pkgs := make([]string, 0, len(set))
	for p := range set {
		pkgs = append(pkgs, p)
	}
	sort.Strings(pkgs)
	show, err := exec.CommandContext(ctx, "apt-cache", append([]string{"show", "--no-all-versions"}, pkgs...)...).Output()
	if err != nil {
		return nil, "", fmt.Errorf("apt-cache show: %w", err)
	}
	h := sha256.New()
	for _, line := range strings.Split(string(show), "\n") {
		if strings.HasPrefix(line, "Package: ") || strings.HasPrefix(line, "Version: ") {
			fmt.Fprintln(h, line)
		}
	}
	return pkgs, hex.EncodeToString(h.Sum(nil))[:16], nil
}

// fillPython downloads the stand-in's packages with apt-get download and
// unpacks them with dpkg-deb -x (no maintainer scripts run), then adds what
// those scripts would have: /bin/sh, /etc/passwd and /etc/group, and a
// python link as the python images have.
func fillPython(ctx context.Context, _ Layout, rootfs string) error {
	pkgs, _, err := pythonPackages(ctx)
	if err != nil {
		return err
	}
	debDir, err := os.MkdirTemp("", "arl-python-debs-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(debDir)
	cmd := exec.CommandContext(ctx, "apt-get", append([]string{"download"}, pkgs...)...)
	cmd.Dir = debDir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("apt-get download %d packages: %w: %s", len(pkgs), err, lastLines(string(out), 5))
	}
	debs, _ := filepath.Glob(filepath.Join(debDir, "*.deb"))
	for _, deb := range debs {
		if out, err := exec.CommandContext(ctx, "dpkg-deb", "-x", deb, rootfs).CombinedOutput(); err != nil {
			return fmt.Errorf("dpkg-deb -x %s: %w: %s", filepath.Base(deb), err, out)
		}
	}
	for _, link := range []struct{ target, path string }{
		{"dash", "bin/sh"}, {"python3", "usr/bin/python"},
	} {
		p := filepath.Join(rootfs, link.path)
		_ = os.Remove(p)
		if err := os.Symlink(link.target, p); err != nil {
			return fmt.Errorf("link %s: %w", link.path, err)
		}
	}
	for _, f := range []struct{ from, to string }{
		{"usr/share/base-passwd/passwd.master", "etc/passwd"}, {"usr/share/base-passwd/group.master", "etc/group"},
	} {
		data, err := os.ReadFile(filepath.Join(rootfs, f.from))
		if err != nil {
			return fmt.Errorf("base-passwd: %w", err)
		}
		if err := os.WriteFile(filepath.Join(rootfs, f.to), data, 0o644); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(filepath.Join(rootfs, "tmp"), 0o1777); err != nil {
		return err
	}
	return os.Chmod(filepath.Join(rootfs, "tmp"), 0o1777)
}
