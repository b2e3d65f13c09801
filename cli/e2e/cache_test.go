//go:build e2e

package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The endpoint cache (internal/endpointcache): after one resolve through the
// API server, `exec` dials the sidecar straight from a 0600 file; a stale,
// corrupt or foreign entry falls back to the resolve, and a re-created
// sandbox of the same name always gets the command.

// cacheEntries are the endpoint cache files of this run.
func cacheEntries(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(cacheHome, "arl", "endpoint-*.json"))
	must(t, err)
	return files
}

// entryFor returns the cache file naming pod (fails when there is none).
func entryFor(t *testing.T, sandboxName string) (string, map[string]any) {
	t.Helper()
	for _, f := range cacheEntries(t) {
		data, err := os.ReadFile(f)
		must(t, err)
		var e map[string]any
		if json.Unmarshal(data, &e) == nil && e["sandbox"] == sandboxName {
			return f, e
		}
	}
	t.Fatalf("no endpoint cache entry for sandbox %s in %s", sandboxName, cacheHome)
	return "", nil
}

func rewriteEntry(t *testing.T, path string, e map[string]any) {
	t.Helper()
	data, err := json.Marshal(e)
	must(t, err)
	must(t, os.WriteFile(path, data, 0o600))
}

// noFullCLI makes any hand-off to the full CLI fail: an exec that still
// works ran from the cache alone, with no Kubernetes client.
var noFullCLI = "ARL_CLI=/nonexistent/arl"

func podOf(t *testing.T, sb string) string {
	t.Helper()
	return kc("get", "sandbox", sb, "-o", "jsonpath={.status.podName}").ok(t)
}

func TestExecCacheIsPrivateAndSkipsTheAPIServer(t *testing.T) {
	sb := newSandbox(t, "cli-cache")
	pod := podOf(t, sb)
	if out := arl("exec", sb, "--", "hostname").ok(t); strings.TrimSpace(out) != pod {
		t.Fatalf("first exec ran on %q, want pod %s", out, pod)
	}
	file, entry := entryFor(t, sb)
	fi, err := os.Stat(file)
	must(t, err)
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("cache file mode %v, want 0600", fi.Mode().Perm())
	}
	di, err := os.Stat(filepath.Dir(file))
	must(t, err)
	if di.Mode().Perm() != 0o700 {
		t.Fatalf("cache dir mode %v, want 0700", di.Mode().Perm())
	}
	if entry["pod"] != pod || entry["token"] == "" {
		t.Fatalf("entry %v: want pod %s and a token", entry, pod)
	}
	// Warm: no hand-off to the full CLI, same output and exit codes.
	r := arl("exec", sb, "--env", "A=b", "--cwd", "/tmp", "--", "sh", "-c", `echo "$A $(pwd)"; echo e >&2; exit 9`).env(noFullCLI).exec(t)
	if r.code != 9 || r.stdout != "b /tmp\n" || r.stderr != "e\n" {
		t.Fatalf("cached exec: code %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	// Command lines the fast path does not take go to the full CLI.
	if r := arl("exec", sb, "-i", "--", "cat").stdin("x").env(noFullCLI).exec(t); r.code == 0 || !strings.Contains(r.stderr, "/nonexistent/arl") {
		t.Fatalf("-i did not go to the full CLI: exit %d stderr %q", r.code, r.stderr)
	}
	// --no-cache and ARL_NO_CACHE neither read nor write the cache.
	if r := arl("exec", "--no-cache", sb, "--", "true").env(noFullCLI).exec(t); r.code == 0 {
		t.Fatal("--no-cache ran from the cache")
	}
	if r := arl("exec", sb, "--", "true").env(noFullCLI, "ARL_NO_CACHE=1").exec(t); r.code == 0 {
		t.Fatal("ARL_NO_CACHE=1 ran from the cache")
	}
	must(t, os.Remove(file))
	arl("exec", "--no-cache", sb, "--", "true").ok(t)
	arl("exec", sb, "--", "true").env("ARL_NO_CACHE=1").ok(t)
	for _, f := range cacheEntries(t) {
		data, _ := os.ReadFile(f)
		if strings.Contains(string(data), `"sandbox":"`+sb+`"`) {
			t.Fatalf("--no-cache wrote %s", f)
		}
	}
}

func TestExecCacheFallsBackOnStaleOrCorruptEntries(t *testing.T) {
	sb := newSandbox(t, "cli-stale")
	arl("exec", sb, "--", "true").ok(t)
	file, entry := entryFor(t, sb)
	token := entry["token"]

	// A token the sidecar refuses (as another pod on the same IP would).
	entry["token"] = "0000"
	rewriteEntry(t, file, entry)
	if out := arl("exec", sb, "--", "echo", "wrong token").ok(t); out != "wrong token\n" {
		t.Fatalf("exec after a refused token: %q", out)
	}
	if _, e := entryFor(t, sb); e["token"] != token {
		t.Fatal("the refused entry was not replaced by a fresh one")
	}

	// An address where nothing listens (a pod that is gone).
	file, entry = entryFor(t, sb)
	entry["ip"], entry["port"] = "127.0.0.1", 1
	rewriteEntry(t, file, entry)
	if out := arl("exec", sb, "--", "echo", "gone").ok(t); out != "gone\n" {
		t.Fatalf("exec after a dead address: %q", out)
	}

	// A file that is not JSON at all.
	file, _ = entryFor(t, sb)
	must(t, os.WriteFile(file, []byte("{not json"), 0o600))
	if out := arl("exec", sb, "--", "echo", "corrupt").ok(t); out != "corrupt\n" {
		t.Fatalf("exec after a corrupt entry: %q", out)
	}
	if _, e := entryFor(t, sb); e["token"] != token {
		t.Fatal("the corrupt entry was not replaced")
	}
	arl("exec", sb, "--", "true").env(noFullCLI).ok(t)
}

func TestExecCacheFollowsARecreatedSandbox(t *testing.T) {
	const name = "cli-recreate"
	newSandbox(t, name)
	old := podOf(t, name)
	if out := arl("exec", name, "--", "hostname").ok(t); strings.TrimSpace(out) != old {
		t.Fatalf("exec ran on %q, want %s", out, old)
	}
	entryFor(t, name)

	// Deleted and re-created by someone else (kubectl, the SDK): the entry
	// still names the old pod; once that pod is gone, its address refuses
	// or answers with another token, and the exec reaches the new sandbox.
	kc("delete", "sandbox", name, "--wait=true").ok(t)
	kc("wait", "--for=delete", "pod/"+old, "--timeout=60s").ok(t)
	kc("apply", "-f", "-").stdin(`apiVersion: arl.infra.io/v1alpha1
kind: Sandbox
metadata:
  name: ` + name + `
  labels: {arl-cli-e2e: "true"}
spec:
  poolRef: ` + pool + `
  keepAlive: true
`).ok(t)
	kc("wait", "--for=jsonpath={.status.phase}=Ready", "sandbox/"+name, "--timeout=120s").ok(t)
	fresh := podOf(t, name)
	if fresh == old {
		t.Fatalf("the re-created sandbox got the old pod %s", old)
	}
	if _, e := entryFor(t, name); e["pod"] != old {
		t.Fatalf("the test needs the stale entry, found %v", e)
	}
	if out := arl("exec", name, "--", "hostname").ok(t); strings.TrimSpace(out) != fresh {
		t.Fatalf("exec after re-creation ran on %q, want the new pod %s (old %s)", out, fresh, old)
	}
	if _, e := entryFor(t, name); e["pod"] != fresh {
		t.Fatalf("entry after re-creation: %v, want pod %s", e, fresh)
	}

	// Through the plugin, delete and create drop the entry at once.
	arl("delete", name).ok(t)
	for _, f := range cacheEntries(t) {
		data, _ := os.ReadFile(f)
		if strings.Contains(string(data), `"sandbox":"`+name+`"`) {
			t.Fatalf("kubectl arl delete left the entry %s", f)
		}
	}
	arl("create", name, "--pool", pool, "--wait").ok(t)
	kc("label", "sandbox", name, "arl-cli-e2e=true").ok(t)
	if out := arl("exec", name, "--", "hostname").ok(t); strings.TrimSpace(out) != podOf(t, name) {
		t.Fatalf("exec after kubectl arl delete + create ran on %q", out)
	}
}

// Ctrl-C on an exec the lean front runs from the cache cancels the call:
// exit code 1 with the reason, and the sidecar stops the command when the
// connection closes.
func TestExecInterruptStopsTheCommand(t *testing.T) {
	sb := newSandbox(t, "cli-intr")
	arl("exec", sb, "--", "true").ok(t) // the cache entry
	c := arl("exec", sb, "--", "sh", "-c", "echo started; exec sleep 301").env(noFullCLI)
	stdout, err := c.cmd.StdoutPipe()
	must(t, err)
	var stderr bytes.Buffer
	c.cmd.Stderr = &stderr
	must(t, c.cmd.Start())
	defer func() { _ = c.cmd.Process.Kill() }()
	started := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		started <- line
	}()
	select {
	case line := <-started:
		if line != "started\n" {
			t.Fatalf("first output %q, want \"started\" (stderr %q)", line, stderr.String())
		}
	case <-time.After(time.Minute):
		t.Fatal("the command printed nothing in a minute")
	}
	must(t, c.cmd.Process.Signal(os.Interrupt))
	done := make(chan error, 1)
	go func() { done <- c.cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("kubectl arl exec did not end in 20s after SIGINT")
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(stderr.String(), "canceled") {
		t.Fatalf("after SIGINT: %v, stderr %q; want exit 1 saying the call was canceled", err, stderr.String())
	}
	count := `for p in /proc/[0-9]*; do tr '\0' ' ' < $p/cmdline 2>/dev/null; echo; done | grep -c '^sleep 301' || true`
	waitUntil(t, func() bool { return strings.TrimSpace(arl("exec", sb, "--", "sh", "-c", count).ok(t)) == "0" })
}
