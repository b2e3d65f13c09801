package cluster

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// localImage is an image of the real node whose root file system is
// assembled here and written with arl-rootfs-image; it is pushed to the
// cluster's registry (pulled by containerd from there, by digest) or, with
// imported set, imported into containerd.
type localImage struct {
	ref        string
	imported   bool
	file       string // tarball name under realnode/images
	entrypoint []string
	cmd        []string
	env        []string
	fill       func(ctx context.Context, l Layout, rootfs string) error
	// key, when set, names the image's exact inputs: its tarball is then
	// kept in the binary cache and shared by every state directory.
	key func(ctx context.Context) (string, error)
}

var localImages = []localImage{
	{ref: PauseImage, imported: true, file: "pause.tar", entrypoint: []string{"/pause"}, fill: fillPause},
	{ref: BusyboxImage, file: "busybox.tar", entrypoint: []string{"/bin/sh"}, fill: fillBusybox},
	{ref: PythonStandInImage, file: "python-stand-in.tar", cmd: []string{"python3"}, fill: fillPython,
		env: []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8"},
		key: func(ctx context.Context) (string, error) { _, key, err := pythonPackages(ctx); return key, err }},
}

// imageTarball is where img's tarball is kept.
func imageTarball(ctx context.Context, l Layout, img localImage) (string, error) {
	if img.key == nil || l.Cache == "" {
		return filepath.Join(l.RealDir("images"), img.file), nil
	}
	key, err := img.key(ctx)
	if err != nil {
		return "", err
	}
	return filepath.Join(l.Cache, "images", strings.TrimSuffix(img.file, ".tar")+"-"+key+".tar"), nil
}

// importLocalImages builds (once per state directory, or once per machine
// for keyed images) the real node's own images, imports the pause image
// into containerd's k8s.io namespace and pushes the others to the
// cluster's registry.
func importLocalImages(ctx context.Context, l Layout, r *reporter) error {
	for _, img := range localImages {
		tarPath, err := imageTarball(ctx, l, img)
		if err != nil {
			return fmt.Errorf("image %s: %w", img.ref, err)
		}
		if !exists(tarPath) {
			r.Printf("image %s: building %s", img.ref, tarPath)
			if err := buildLocalImage(ctx, l, img, tarPath); err != nil {
				return fmt.Errorf("image %s: %w", img.ref, err)
			}
		}
		if !img.imported {
			dest, err := registryRef(l, img.ref)
			if err != nil {
				return err
			}
			out, err := runBin(ctx, l, "arl-image", "push-tarball", "--tarball", tarPath, "--ref", dest)
			if err != nil {
				return fmt.Errorf("push %s as %s: %w: %s", img.ref, dest, err, out)
			}
			r.Printf("image %s pushed to the registry (%s)", img.ref, lastLines(out, 1))
			continue
		}
		if out, err := ctr(ctx, l, "images", "import", "--local", tarPath); err != nil {
			return fmt.Errorf("import %s: %w: %s", img.ref, err, out)
		}
		r.Printf("image %s imported into containerd", img.ref)
	}
	return nil
}

// registryRef is where ref is pushed in the cluster's registry for
// containerd to find it through registryHosts: docker.io/library/python
// becomes <registry>/library/python, arl.local/busybox <registry>/busybox.
func registryRef(l Layout, ref string) (string, error) {
	for _, host := range []string{"docker.io/", LocalRegistryHost + "/"} {
		if path, ok := strings.CutPrefix(ref, host); ok {
			return l.Net.RegistryAddr() + "/" + path, nil
		}
	}
	return "", fmt.Errorf("image %s: neither docker.io nor %s, which the registry mirrors", ref, LocalRegistryHost)
}

func buildLocalImage(ctx context.Context, l Layout, img localImage, tarPath string) error {
	if err := os.MkdirAll(filepath.Dir(tarPath), 0o755); err != nil {
		return err
	}
	rootfs, err := os.MkdirTemp(filepath.Dir(tarPath), "rootfs-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(rootfs)
	if err := img.fill(ctx, l, rootfs); err != nil {
		return err
	}
	args := []string{"--rootfs", rootfs, "--ref", img.ref, "--out", tarPath}
	for _, e := range img.entrypoint {
		args = append(args, "--entrypoint", e)
	}
	for _, c := range img.cmd {
		args = append(args, "--cmd", c)
	}
	for _, e := range img.env {
		args = append(args, "--env", e)
	}
	if out, err := exec.CommandContext(ctx, l.BinPath("arl-rootfs-image"), args...).CombinedOutput(); err != nil {
		return fmt.Errorf("arl-rootfs-image: %w: %s", err, out)
	}
	return nil
}

// fillPause puts the static arl-pause binary at /pause.
func fillPause(_ context.Context, l Layout, rootfs string) error {
	data, err := os.ReadFile(l.BinPath("arl-pause"))
	if err != nil {
		return fmt.Errorf("read arl-pause: %w", err)
	}
	return os.WriteFile(filepath.Join(rootfs, "pause"), data, 0o755)
}

// fillBusybox unpacks Debian's busybox-static (a static binary: no libc in
// the image) with a link per applet under /bin, plus /tmp.
func fillBusybox(ctx context.Context, _ Layout, rootfs string) error {
	debDir, err := os.MkdirTemp("", "arl-busybox-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(debDir)
	cmd := exec.CommandContext(ctx, "apt-get", "download", "busybox-static")
	cmd.Dir = debDir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("apt-get download busybox-static (run apt-get update first?): %w: %s", err, out)
	}
	debs, _ := filepath.Glob(filepath.Join(debDir, "busybox-static_*.deb"))
	if len(debs) != 1 {
		return fmt.Errorf("apt-get download busybox-static left %v", debs)
	}
	unpacked := filepath.Join(debDir, "x")
	if out, err := exec.CommandContext(ctx, "dpkg-deb", "-x", debs[0], unpacked).CombinedOutput(); err != nil {
		return fmt.Errorf("dpkg-deb -x: %w: %s", err, out)
	}
	data, err := os.ReadFile(filepath.Join(unpacked, "bin", "busybox"))
	if err != nil {
		return err
	}
	for _, d := range []string{"bin", "tmp"} {
		if err := os.MkdirAll(filepath.Join(rootfs, d), 0o755); err != nil {
			return err
		}
	}
	if err := os.Chmod(filepath.Join(rootfs, "tmp"), 0o1777); err != nil {
		return err
	}
	busybox := filepath.Join(rootfs, "bin", "busybox")
	if err := os.WriteFile(busybox, data, 0o755); err != nil {
		return err
	}
	list, err := exec.CommandContext(ctx, filepath.Join(unpacked, "bin", "busybox"), "--list").Output()
	if err != nil {
		return fmt.Errorf("busybox --list: %w", err)
	}
	for _, applet := range strings.Fields(string(list)) {
		if applet == "busybox" || strings.Contains(applet, "/") {
			continue
		}
		if err := os.Symlink("busybox", filepath.Join(rootfs, "bin", applet)); err != nil && !os.IsExist(err) {
			return err
		}
	}
	return nil
}

// ctr runs containerd's ctr against the real node's socket in the k8s.io
// namespace, the one the CRI plugin uses.
func ctr(ctx context.Context, l Layout, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, l.BinPath("ctr"), append([]string{"--address", l.ContainerdSocket(), "--namespace", "k8s.io"}, args...)...)
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}
