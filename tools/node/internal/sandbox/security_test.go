package sandbox_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/utils/ptr"

	"github.com/arl-infra/arl/tools/node/internal/sandbox"
)

// capMask is the /proc/PID/status hex mask of the named capabilities.
func capMask(t *testing.T, names []string) string {
	t.Helper()
	var m uint64
	for _, n := range names {
		c, err := sandbox.ParseCapability(n)
		if err != nil {
			t.Fatal(err)
		}
		m |= 1 << uint(c)
	}
	return fmt.Sprintf("%016x", m)
}

// procStatus runs grep over the container's own /proc/self/status and
// returns the fields asked for.
func procStatus(t *testing.T, p *testPod, spec sandbox.ContainerSpec, fields ...string) map[string]string {
	t.Helper()
	spec.Argv = []string{"grep", "-E", "^(" + strings.Join(fields, "|") + "):", "/proc/self/status"}
	out, code := p.runSpec(t, spec)
	if code != 0 {
		t.Fatalf("grep /proc/self/status exited %d: %s", code, out)
	}
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		k, v, _ := strings.Cut(line, ":")
		got[k] = strings.TrimSpace(v)
	}
	return got
}

func TestNonPrivilegedContainersLoseCapabilities(t *testing.T) {
	p := startPod(t, "caps", "10.250.0.51")
	def := capMask(t, sandbox.DefaultCapabilities)
	got := procStatus(t, p, sandbox.ContainerSpec{Security: sandbox.Security{Capabilities: sandbox.DefaultCapabilities}},
		"CapEff", "CapPrm", "CapBnd", "CapAmb")
	want := map[string]string{"CapEff": def, "CapPrm": def, "CapBnd": def, "CapAmb": "0000000000000000"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("runtime defaults: %s = %s, want %s", k, got[k], v)
		}
	}
	got = procStatus(t, p, sandbox.ContainerSpec{Security: sandbox.Security{Capabilities: []string{}}}, "CapEff", "CapBnd")
	if got["CapEff"] != "0000000000000000" || got["CapBnd"] != "0000000000000000" {
		t.Errorf("drop ALL: got %v, want every set empty", got)
	}
	got = procStatus(t, p, sandbox.ContainerSpec{Security: sandbox.Security{Privileged: true}}, "CapEff")
	if got["CapEff"] == def || got["CapEff"] == "0000000000000000" {
		t.Errorf("privileged: CapEff = %s, want the node's full set", got["CapEff"])
	}
	// The effect, not only the mask: mounting needs CAP_SYS_ADMIN.
	dir := t.TempDir()
	out, code := p.runSpec(t, sandbox.ContainerSpec{Argv: []string{"mount", "-t", "tmpfs", "none", dir},
		Security: sandbox.Security{Capabilities: sandbox.DefaultCapabilities}})
	if code == 0 {
		t.Fatalf("a container with the default capabilities mounted a tmpfs: %s", out)
	}
}

func TestRunAsUserAndNoNewPrivs(t *testing.T) {
	p := startPod(t, "user", "10.250.0.52")
	sec := sandbox.Security{UID: ptr.To[int64](1234), GID: ptr.To[int64](2345), Groups: []int64{3456},
		Capabilities: sandbox.DefaultCapabilities, NoNewPrivs: true}
	out, code := p.runSpec(t, sandbox.ContainerSpec{Argv: []string{"sh", "-c", "id -u; id -g; id -G"}, Security: sec})
	if code != 0 || out != "1234\n2345\n2345 3456\n" {
		t.Fatalf("runAsUser 1234, runAsGroup 2345, supplementalGroups [3456]: got exit %d:\n%s", code, out)
	}
	got := procStatus(t, p, sandbox.ContainerSpec{Security: sec}, "CapEff", "CapPrm", "NoNewPrivs")
	want := map[string]string{"CapEff": "0000000000000000", "CapPrm": "0000000000000000", "NoNewPrivs": "1"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("non-root user: %s = %s, want %s", k, got[k], v)
		}
	}
	// Root-owned files are out of reach for the user.
	secret := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secret, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, code := p.runSpec(t, sandbox.ContainerSpec{Argv: []string{"cat", secret}, Security: sec}); code == 0 {
		t.Fatalf("uid 1234 read a root-only file: %s", out)
	}
}

func TestHiddenDirsAreEmptyInContainers(t *testing.T) {
	state := t.TempDir()
	if err := os.WriteFile(filepath.Join(state, "kubeconfig"), []byte("admin credentials"), 0o600); err != nil {
		t.Fatal(err)
	}
	vol := filepath.Join(state, "pods", "uid", "volumes", "data")
	if err := os.MkdirAll(vol, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(vol, "note"), []byte("volume content"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startPodHiding(t, "hide", "10.250.0.53", []string{state})
	sec := sandbox.Security{Capabilities: sandbox.DefaultCapabilities}
	script := fmt.Sprintf(`ls -A %[1]s; cat %[1]s/kubeconfig 2>/dev/null && echo READ; cat /data/note; umount %[1]s 2>/dev/null && echo UNMOUNTED; true`, state)
	out, code := p.runSpec(t, sandbox.ContainerSpec{Argv: []string{"sh", "-c", script}, Security: sec,
		Mounts: []sandbox.Mount{{Source: vol, Target: "/data"}}})
	if code != 0 || out != "volume content" {
		t.Fatalf("hidden state dir: want it empty, unreadable and not unmountable, and its volume bound; got exit %d:\n%q", code, out)
	}
}
