//go:build e2e

package e2e

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestListsHaveKubectlColumns(t *testing.T) {
	sb := newSandbox(t, "cli-list")
	for cmd, header := range map[string][]string{
		"pools":     {"NAME", "DESIRED", "READY", "ALLOCATED", "AGE"},
		"sandboxes": {"NAME", "PHASE", "POD", "IP", "AGE"},
	} {
		out := arl(cmd).ok(t)
		fields := strings.Fields(strings.SplitN(out, "\n", 2)[0])
		if strings.Join(fields, " ") != strings.Join(header, " ") {
			t.Errorf("%s header %v, want %v (kubectl get's columns)", cmd, fields, header)
		}
		want := kc("get", map[string]string{"pools": "warmpools", "sandboxes": "sandboxes"}[cmd]).ok(t)
		if strings.Fields(strings.SplitN(want, "\n", 2)[0])[1] != fields[1] {
			t.Errorf("%s columns differ from kubectl's: %q vs %q", cmd, out, want)
		}
	}
	wide := arl("sandboxes", sb, "-o", "wide").ok(t)
	if !strings.Contains(wide, "POOL") || !strings.Contains(wide, pool) {
		t.Errorf("-o wide lacks the pool column: %s", wide)
	}
	var obj map[string]any
	if err := json.Unmarshal([]byte(arl("sandboxes", sb, "-o", "json").ok(t)), &obj); err != nil {
		t.Fatalf("-o json: %v", err)
	}
	if obj["kind"] != "Sandbox" || obj["apiVersion"] != "arl.infra.io/v1alpha1" {
		t.Errorf("-o json gave kind %v apiVersion %v", obj["kind"], obj["apiVersion"])
	}
	if y := arl("pools", pool, "-o", "yaml").ok(t); !strings.Contains(y, "kind: WarmPool") || !strings.Contains(y, "name: "+pool) {
		t.Errorf("-o yaml: %s", y)
	}
	// tasks: the header once a task exists.
	steps := writeSteps(t, "steps:\n  - name: hi\n    type: Command\n    command: [\"echo\", \"hi\"]\n")
	arl("run", sb, "-f", steps).ok(t)
	if out := arl("tasks").ok(t); !strings.HasPrefix(out, "NAME") || !strings.Contains(out, "STATE") || !strings.Contains(out, "Succeeded") {
		t.Errorf("tasks: %s", out)
	}
}

func TestExecStreamsAndExitsWithTheCommandsCode(t *testing.T) {
	sb := newSandbox(t, "cli-exec")
	r := arl("exec", sb, "--", "sh", "-c", "echo out; echo err >&2; exit 7").exec(t)
	if r.code != 7 || r.stdout != "out\n" || r.stderr != "err\n" {
		t.Fatalf("exec: code %d stdout %q stderr %q; want 7, out, err", r.code, r.stdout, r.stderr)
	}
	if r := arl("exec", sb, "--", "true").exec(t); r.code != 0 {
		t.Fatalf("true: exit %d (%s)", r.code, r.stderr)
	}
	if r := arl("exec", sb, "--", "false").exec(t); r.code != 1 {
		t.Fatalf("false: exit %d", r.code)
	}
	out := arl("exec", sb, "--env", "GREETING=hello", "--cwd", "/tmp", "--", "sh", "-c", `echo "$GREETING from $(pwd)"`).ok(t)
	if out != "hello from /tmp\n" {
		t.Fatalf("--env/--cwd: %q", out)
	}
	if out := arl("exec", sb, "-i", "--", "python", "-c", "import sys; print(sys.stdin.read().upper())").stdin("abc").ok(t); out != "ABC\n" {
		t.Fatalf("-i: %q", out)
	}
	r = arl("exec", sb, "--timeout", "1s", "--", "sleep", "30").exec(t)
	if r.code != 124 || !strings.Contains(r.stderr, "timed out") {
		t.Fatalf("--timeout: code %d stderr %q; want 124 and a note", r.code, r.stderr)
	}
	r = arl("exec", sb, "--", "sh", "-c", "kill -9 $$").exec(t)
	if r.code != 137 {
		t.Fatalf("killed by SIGKILL: exit %d, want 137", r.code)
	}
}

func TestExecBadInputSaysWhatToDo(t *testing.T) {
	r := arl("exec", "no-such-sandbox", "--", "true").exec(t)
	if r.code == 0 || !strings.Contains(r.stderr, `sandbox "no-such-sandbox" not found`) || !strings.Contains(r.stderr, "kubectl arl sandboxes") {
		t.Fatalf("missing sandbox: exit %d stderr %q", r.code, r.stderr)
	}
	// A sandbox of a pool that does not exist stays Pending.
	arl("create", "cli-pending", "--pool", "no-such-pool").ok(t)
	kc("label", "sandbox", "cli-pending", "arl-cli-e2e=true").ok(t)
	t.Cleanup(func() { _, _ = kc("delete", "sandbox", "cli-pending", "--ignore-not-found").run() })
	r = arl("exec", "cli-pending", "--", "true").exec(t)
	if r.code == 0 || !strings.Contains(r.stderr, "is not Ready") || !strings.Contains(r.stderr, "Pending") {
		t.Fatalf("Pending sandbox: exit %d stderr %q", r.code, r.stderr)
	}
	r = arl("create", "cli-nopool").exec(t)
	if r.code == 0 || !strings.Contains(r.stderr, "--pool is required") {
		t.Fatalf("create without --pool: exit %d stderr %q", r.code, r.stderr)
	}
	r = arl("kill", "cli-pending", "abc").exec(t)
	if r.code == 0 || !strings.Contains(r.stderr, "want a positive number") {
		t.Fatalf("kill with a bad pid: exit %d stderr %q", r.code, r.stderr)
	}
}

func TestRunPrintsTheTaskResult(t *testing.T) {
	sb := newSandbox(t, "cli-run")
	steps := writeSteps(t, `timeout: 30s
steps:
  - name: write-code
    type: FilePatch
    path: /workspace/hello.py
    content: |
      print("Hello from ARL!")
      print("Task executed successfully")
  - name: run-code
    type: Command
    command: ["python", "/workspace/hello.py"]
`)
	if out := arl("run", sb, "-f", steps).ok(t); out != "Hello from ARL!\nTask executed successfully\n" {
		t.Fatalf("run: %q", out)
	}
	var task map[string]any
	if err := json.Unmarshal([]byte(arl("run", sb, "-f", steps, "-o", "json").ok(t)), &task); err != nil {
		t.Fatal(err)
	}
	if task["status"].(map[string]any)["state"] != "Succeeded" {
		t.Fatalf("-o json state: %v", task["status"])
	}
	failing := writeSteps(t, "steps:\n  - name: fail\n    type: Command\n    command: [\"sh\", \"-c\", \"echo boom >&2; exit 3\"]\n")
	r := arl("run", sb, "-f", failing).exec(t)
	if r.code != 3 || !strings.Contains(r.stderr, "boom") || !strings.Contains(r.stderr, "Failed") {
		t.Fatalf("failing task: exit %d stderr %q", r.code, r.stderr)
	}
}

func TestCpRoundTrip50MB(t *testing.T) {
	sb := newSandbox(t, "cli-cp")
	dir := t.TempDir()
	big := filepath.Join(dir, "big.bin")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	if _, err := io.CopyN(io.MultiWriter(f, h), rand.Reader, 50<<20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	want := h.Sum(nil)
	arl("cp", big, sb+":/workspace/big.bin").ok(t)
	remoteSum := arl("exec", sb, "--", "sha256sum", "/workspace/big.bin").ok(t)
	if !strings.HasPrefix(remoteSum, hexOf(want)) {
		t.Fatalf("sandbox checksum %q, want %x", remoteSum, want)
	}
	back := filepath.Join(dir, "back.bin")
	arl("cp", sb+":big.bin", back).ok(t)
	if got := sumFile(t, back); got != hexOf(want) {
		t.Fatalf("round trip checksum %s, want %x", got, want)
	}

	// A directory tree both ways (tar), modes kept.
	src := filepath.Join(dir, "src")
	must(t, os.MkdirAll(filepath.Join(src, "pkg"), 0o755))
	must(t, os.WriteFile(filepath.Join(src, "pkg", "mod.py"), []byte("X = 42\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(src, "run.sh"), []byte("#!/bin/sh\necho ran\n"), 0o755))
	arl("cp", src, sb+":/workspace/proj").ok(t)
	if out := arl("exec", sb, "--cwd", "/workspace/proj", "--", "sh", "-c", "./run.sh && python -c 'import pkg.mod; print(pkg.mod.X)'").ok(t); out != "ran\n42\n" {
		t.Fatalf("uploaded tree: %q", out)
	}
	arl("exec", sb, "--", "sh", "-c", "echo made-here > /workspace/proj/pkg/new.txt").ok(t)
	out := filepath.Join(dir, "out")
	arl("cp", sb+":/workspace/proj", out).ok(t)
	if b, err := os.ReadFile(filepath.Join(out, "pkg", "new.txt")); err != nil || string(b) != "made-here\n" {
		t.Fatalf("downloaded tree: %q, %v", b, err)
	}
	if info, err := os.Stat(filepath.Join(out, "run.sh")); err != nil || info.Mode().Perm() != 0o755 {
		t.Fatalf("run.sh mode after the round trip: %v, %v", info, err)
	}
	r := arl("cp", sb+":/workspace/nope", filepath.Join(dir, "nope")).exec(t)
	if r.code == 0 || !strings.Contains(r.stderr, "no such file") {
		t.Fatalf("cp of a missing file: exit %d stderr %q", r.code, r.stderr)
	}
}

func TestPsKillReset(t *testing.T) {
	sb := newSandbox(t, "cli-ps")
	pid := strings.TrimSpace(arl("exec", sb, "-d", "--", "sleep", "300").ok(t))
	if _, err := strconv.Atoi(pid); err != nil {
		t.Fatalf("exec -d printed %q, want a pid", pid)
	}
	if ps := arl("ps", sb).ok(t); !strings.Contains(ps, pid) || !strings.Contains(ps, "sleep 300") || !strings.Contains(ps, "running") {
		t.Fatalf("ps: %s", ps)
	}
	arl("kill", sb, pid, "--signal", "SIGKILL").ok(t)
	var list struct {
		Processes []struct {
			Pid    int32  `json:"pid"`
			Done   bool   `json:"done"`
			Signal string `json:"signal"`
		} `json:"processes"`
	}
	waitUntil(t, func() bool {
		must(t, json.Unmarshal([]byte(arl("ps", sb, "-a", "-o", "json").ok(t)), &list))
		for _, p := range list.Processes {
			if strconv.Itoa(int(p.Pid)) == pid {
				return p.Done && p.Signal == "SIGKILL"
			}
		}
		return false
	})
	arl("exec", sb, "--", "sh", "-c", "echo keep > /workspace/keep.txt").ok(t)
	arl("exec", sb, "-d", "--", "sleep", "300").ok(t)
	out := arl("reset", sb, "--keep-files").ok(t)
	if !strings.Contains(out, "1 process(es) ended") || !strings.Contains(out, "files kept") {
		t.Fatalf("reset --keep-files: %q", out)
	}
	arl("exec", sb, "--", "test", "-f", "/workspace/keep.txt").ok(t)
	arl("reset", sb).ok(t)
	if r := arl("exec", sb, "--", "test", "-f", "/workspace/keep.txt").exec(t); r.code != 1 {
		t.Fatalf("after reset the file is still there (exit %d)", r.code)
	}
}

func TestLogs(t *testing.T) {
	sb := newSandbox(t, "cli-logs")
	arl("logs", sb).ok(t) // the executor runs `sleep infinity`: no lines, but the call works
	out := arl("logs", sb, "-c", "sidecar", "--tail", "50").ok(t)
	if strings.TrimSpace(out) == "" {
		t.Fatal("sidecar logs are empty")
	}
	if r := arl("logs", "no-such-sandbox").exec(t); r.code == 0 || !strings.Contains(r.stderr, "not found") {
		t.Fatalf("logs of a missing sandbox: exit %d stderr %q", r.code, r.stderr)
	}
}

func TestPortForwardMode(t *testing.T) {
	sb := newSandbox(t, "cli-pf")
	out := arl("exec", sb, "--connect=port-forward", "--", "echo", "through the API server").ok(t)
	if out != "through the API server\n" {
		t.Fatalf("port-forward exec: %q", out)
	}
	if r := arl("exec", sb, "--", "sh", "-c", "exit 5").env("ARL_CONNECT=port-forward").exec(t); r.code != 5 {
		t.Fatalf("ARL_CONNECT=port-forward: exit %d (%s)", r.code, r.stderr)
	}
	data := strings.Repeat("0123456789", 100000)
	path := filepath.Join(t.TempDir(), "f.txt")
	must(t, os.WriteFile(path, []byte(data), 0o644))
	arl("cp", "--connect=port-forward", path, sb+":f.txt").ok(t)
	if out := arl("exec", sb, "--", "wc", "-c", "/workspace/f.txt").ok(t); !strings.HasPrefix(out, "1000000 ") {
		t.Fatalf("cp over port-forward: %q", out)
	}
	if r := arl("exec", sb, "--connect=bogus", "--", "true").exec(t); r.code == 0 || !strings.Contains(r.stderr, "use auto, direct or port-forward") {
		t.Fatalf("bad --connect: exit %d stderr %q", r.code, r.stderr)
	}
}

func TestCreateDelete(t *testing.T) {
	out := arl("create", "cli-cd", "--pool", pool, "--wait", "-o", "name").ok(t)
	kc("label", "sandbox", "cli-cd", "arl-cli-e2e=true").ok(t)
	if strings.TrimSpace(out) != "sandbox.arl.infra.io/cli-cd" {
		t.Fatalf("create -o name: %q", out)
	}
	if phase := kc("get", "sandbox", "cli-cd", "-o", "jsonpath={.status.phase}").ok(t); phase != "Ready" {
		t.Fatalf("phase after create --wait: %q", phase)
	}
	if out := arl("delete", "cli-cd").ok(t); out != "sandbox/cli-cd deleted\n" {
		t.Fatalf("delete: %q", out)
	}
	if r := kc("get", "sandbox", "cli-cd").exec(t); r.code == 0 {
		t.Fatal("the sandbox is still there after delete")
	}
	if r := arl("delete", "cli-cd").exec(t); r.code == 0 || !strings.Contains(r.stderr, "not found") {
		t.Fatalf("second delete: exit %d stderr %q", r.code, r.stderr)
	}
	arl("delete", "cli-cd", "--ignore-not-found").ok(t)
}
