package sandbox

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/sys/unix"
)

// Mount binds Source (a host path) at Target inside a container.
type Mount struct {
	Source   string `json:"source"`
	Target   string `json:"target"`
	ReadOnly bool   `json:"readOnly,omitempty"`
}

// setupMounts runs inside the container's new mount namespace: a /proc of
// the pod, the hidden directories covered, the volumes bound.
func setupMounts(mounts []Mount, hidden []string) error {
	// The copied mounts are shared with the host's; make them private so
	// nothing done here shows on the host.
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make / private: %w", err)
	}
	// A /proc for the pod's PID namespace: ps sees the pod's processes only.
	if err := unix.Mount("proc", "/proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mount /proc: %w", err)
	}
	// Open every source before mounting anything: a volume mounted at, say,
	// /tmp would otherwise hide the sources of later volumes when the node's
	// state directory lives under /tmp.
	sources := make([]int, len(mounts))
	for i, m := range mounts {
		fd, err := unix.Open(m.Source, unix.O_PATH|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("volume source for %s: %w", m.Target, err)
		}
		defer unix.Close(fd)
		sources[i] = fd
	}
	// The sources are open, so covering the node's state directory (where
	// they live) does not hide them from the binds below.
	for _, dir := range hidden {
		if err := hideDir(dir); err != nil {
			return err
		}
	}
	for i, m := range mounts {
		if err := bindMount(m, sources[i]); err != nil {
			return err
		}
	}
	return nil
}

// hideDir covers dir with an empty, read-only tmpfs. Without
// CAP_SYS_ADMIN the container cannot unmount it.
func hideDir(dir string) error {
	if _, err := os.Stat(dir); os.IsNotExist(err) {
		return nil
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "size=4k,mode=0555"); err != nil {
		return fmt.Errorf("hide %s: %w", dir, err)
	}
	return nil
}

// bindMount binds the already opened source (an O_PATH descriptor) at the
// mount's target.
func bindMount(m Mount, source int) error {
	var st unix.Stat_t
	if err := unix.Fstat(source, &st); err != nil {
		return fmt.Errorf("volume source for %s: %w", m.Target, err)
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		if err := os.MkdirAll(m.Target, 0o755); err != nil {
			return fmt.Errorf("create mount point %s: %w", m.Target, err)
		}
	} else {
		if err := os.MkdirAll(filepath.Dir(m.Target), 0o755); err != nil {
			return fmt.Errorf("create mount point parent %s: %w", m.Target, err)
		}
		if _, err := os.Stat(m.Target); os.IsNotExist(err) {
			f, err := os.OpenFile(m.Target, os.O_CREATE|os.O_WRONLY, 0o644)
			if err != nil {
				return fmt.Errorf("create mount point %s: %w", m.Target, err)
			}
			f.Close()
		}
	}
	if err := unix.Mount(fmt.Sprintf("/proc/self/fd/%d", source), m.Target, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind %s at %s: %w", m.Source, m.Target, err)
	}
	if m.ReadOnly {
		if err := unix.Mount("", m.Target, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY|unix.MS_REC, ""); err != nil {
			return fmt.Errorf("make %s read-only: %w", m.Target, err)
		}
	}
	return nil
}

// UnmountUnder lazily unmounts every host mount at or below dir (deepest
// first). Pods' mounts live in private namespaces, so normally there are
// none; this is the safety net of cleanup.
func UnmountUnder(dir string) error {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return fmt.Errorf("read mountinfo: %w", err)
	}
	defer f.Close()
	var targets []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		mp := unescapeMountPath(fields[4])
		if mp == dir || strings.HasPrefix(mp, dir+"/") {
			targets = append(targets, mp)
		}
	}
	sort.Slice(targets, func(i, j int) bool { return len(targets[i]) > len(targets[j]) })
	var errs []string
	for _, t := range targets {
		if err := unix.Unmount(t, unix.MNT_DETACH); err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", t, err))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("unmount under %s: %s", dir, strings.Join(errs, "; "))
	}
	return nil
}

func unescapeMountPath(s string) string {
	r := strings.NewReplacer(`\040`, " ", `\011`, "\t", `\012`, "\n", `\134`, `\`)
	return r.Replace(s)
}
