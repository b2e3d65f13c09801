package sandbox

import (
	"fmt"
	"strings"
	"unsafe"

	"github.com/moby/sys/capability"
	"golang.org/x/sys/unix"
)

// Security is how a container's process runs, from its securityContext.
type Security struct {
	// Privileged keeps every capability (and allows privilege escalation).
	Privileged bool `json:"privileged,omitempty"`
	// Capabilities the process keeps when not privileged, as Kubernetes
	// names them ("CHOWN", "NET_BIND_SERVICE"); every other one is dropped
	// from all sets, the bounding set included.
	Capabilities []string `json:"capabilities,omitempty"`
	// UID and GID to run as (nil: stay root); Groups are the supplementary groups.
	UID    *int64  `json:"uid,omitempty"`
	GID    *int64  `json:"gid,omitempty"`
	Groups []int64 `json:"groups,omitempty"`
	// NoNewPrivs sets no_new_privs: setuid binaries and file capabilities
	// grant nothing (allowPrivilegeEscalation: false).
	NoNewPrivs bool `json:"noNewPrivs,omitempty"`
}

// DefaultCapabilities is what a container runtime (containerd, CRI-O) grants
// a non-privileged container that asks for no changes.
var DefaultCapabilities = []string{
	"CHOWN", "DAC_OVERRIDE", "FSETID", "FOWNER", "MKNOD", "NET_RAW", "SETGID", "SETUID",
	"SETFCAP", "SETPCAP", "NET_BIND_SERVICE", "SYS_CHROOT", "KILL", "AUDIT_WRITE",
}

// ParseCapability maps a Kubernetes capability name (with or without the
// CAP_ prefix, any case) to the kernel's.
func ParseCapability(name string) (capability.Cap, error) {
	want := strings.TrimPrefix(strings.ToLower(name), "cap_")
	for _, c := range capability.ListKnown() {
		if c.String() == want {
			return c, nil
		}
	}
	return 0, fmt.Errorf("unknown capability %q", name)
}

// apply drops capabilities, switches user and group and sets no_new_privs
// for the calling thread, which must be locked and must exec next: the
// kernel keeps credentials per thread.
func (s Security) apply() error {
	if !s.Privileged {
		caps, err := capability.NewPid2(0)
		if err != nil {
			return fmt.Errorf("read capabilities: %w", err)
		}
		if err := caps.Load(); err != nil {
			return fmt.Errorf("read capabilities: %w", err)
		}
		keep := make([]capability.Cap, 0, len(s.Capabilities))
		for _, name := range s.Capabilities {
			c, err := ParseCapability(name)
			if err != nil {
				return err
			}
			keep = append(keep, c)
		}
		caps.Clear(capability.CAPS | capability.BOUNDS | capability.AMBS)
		caps.Set(capability.CAPS|capability.BOUNDS, keep...)
		// CAP_SETPCAP is needed to drop from the bounding set, and
		// capset may only lower the sets: drop the bounding set first,
		// with the current sets still in place.
		if err := caps.Apply(capability.BOUNDS); err != nil {
			return fmt.Errorf("drop bounding capabilities: %w", err)
		}
		// Setting the user and groups needs CAP_SETUID/CAP_SETGID: do
		// it before the effective set loses them.
		if err := s.setIDs(); err != nil {
			return err
		}
		if s.UID == nil || *s.UID == 0 {
			if err := caps.Apply(capability.CAPS | capability.AMBS); err != nil {
				return fmt.Errorf("set capabilities: %w", err)
			}
		}
		// A non-root user lost its permitted and effective sets with the
		// uid change (no SECBIT_KEEP_CAPS), as under a container runtime.
	} else if err := s.setIDs(); err != nil {
		return err
	}
	if s.NoNewPrivs {
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			return fmt.Errorf("set no_new_privs: %w", err)
		}
	}
	return nil
}

// setIDs sets the thread's groups, gid and uid with raw system calls: the
// standard library's wrappers change every thread of the process, which is
// not needed before exec and can fail in a cgo binary.
func (s Security) setIDs() error {
	if s.UID == nil && s.GID == nil && len(s.Groups) == 0 {
		return nil
	}
	gid := int64(0)
	if s.GID != nil {
		gid = *s.GID
	}
	groups := make([]uint32, 0, len(s.Groups)+1)
	groups = append(groups, uint32(gid))
	for _, g := range s.Groups {
		groups = append(groups, uint32(g))
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETGROUPS, uintptr(len(groups)), uintptr(unsafe.Pointer(&groups[0])), 0); e != 0 {
		return fmt.Errorf("setgroups %v: %w", groups, e)
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESGID, uintptr(gid), uintptr(gid), uintptr(gid)); e != 0 {
		return fmt.Errorf("setresgid %d: %w", gid, e)
	}
	if s.UID != nil {
		uid := uintptr(*s.UID)
		if _, _, e := unix.RawSyscall(unix.SYS_SETRESUID, uid, uid, uid); e != 0 {
			return fmt.Errorf("setresuid %d: %w", *s.UID, e)
		}
	}
	return nil
}
