package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// binary is arl-sidecar built once for these tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "arl-sidecar-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "arl-sidecar")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build arl-sidecar:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goroutine leak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

func requireTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("this test needs %q on PATH: install it (Debian: apt-get install -y curl jq procps util-linux; python3 for python)", tool)
		}
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func portFree(port int) bool {
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// started is a background arl-sidecar process.
type started struct {
	cmd    *exec.Cmd
	exited chan struct{} // closed once the process is reaped
	log    *strings.Builder
}

func start(t *testing.T, argv ...string) *started {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	var log strings.Builder
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %v: %v", argv, err)
	}
	s := &started{cmd: cmd, exited: make(chan struct{}), log: &log}
	go func() {
		_ = cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		select {
		case <-s.exited:
		case <-time.After(5 * time.Second):
		}
		if t.Failed() {
			t.Logf("output of %v:\n%s", argv, log.String())
		}
	})
	return s
}

// stop sends SIGTERM and returns the exit code.
func (s *started) stop(t *testing.T) int {
	t.Helper()
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
		return s.cmd.ProcessState.ExitCode()
	case <-time.After(15 * time.Second):
		t.Fatalf("did not stop on SIGTERM")
		return -1
	}
}

func healthStatus(url string) int {
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get(url + "/health")
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func waitHealth(t *testing.T, url string, want int) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for healthStatus(url) != want {
		if time.Now().After(deadline) {
			t.Fatalf("GET %s/health never returned %d", url, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func post(t *testing.T, url, body string) (int, map[string]any) {
	t.Helper()
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("POST %s: %d, body not JSON: %v", url, resp.StatusCode, err)
	}
	return resp.StatusCode, out
}

// TestManualWay1 runs the manual's Way 1 curl sequence with real curl and
// jq against `arl-sidecar serve` started in its own PID namespace (as in a
// pod, so `pgrep -f http.server` sees only this sandbox's processes).
func TestManualWay1(t *testing.T) {
	requireTools(t, "curl", "jq", "python", "pgrep", "ps", "unshare", "bash")
	port := freePort(t)
	webPort := 8000
	if !portFree(webPort) {
		webPort = freePort(t)
	}
	workspace := t.TempDir()
	sidecar := start(t, "unshare", "--pid", "--fork", "--mount-proc", "--kill-child=SIGTERM",
		binary, "serve", "--http-addr=127.0.0.1:"+strconv.Itoa(port), "--grpc-addr=", "--workspace="+workspace)
	url := "http://127.0.0.1:" + strconv.Itoa(port)
	waitHealth(t, url, 200)

	script := exec.Command("bash", "testdata/way1.sh")
	script.Env = append(os.Environ(), "POD_IP=127.0.0.1", "SIDECAR_PORT="+strconv.Itoa(port), "WEB_PORT="+strconv.Itoa(webPort), "WORKSPACE="+workspace)
	var stderr strings.Builder
	script.Stderr = &stderr
	out, err := script.Output()
	if err != nil {
		t.Fatalf("way1.sh: %v\nstdout:\n%s\nstderr:\n%s", err, out, stderr.String())
	}
	steps := map[string]string{}
	scanner := bufio.NewScanner(strings.NewReader(string(out)))
	scanner.Buffer(make([]byte, 1<<20), 1<<20)
	for scanner.Scan() {
		label, rest, _ := strings.Cut(scanner.Text(), " ")
		steps[label] = rest
	}
	decode := func(label string) map[string]any {
		var m map[string]any
		if err := json.Unmarshal([]byte(steps[label]), &m); err != nil {
			t.Fatalf("%s: not JSON: %q (%v)\nwhole output:\n%s", label, steps[label], err, out)
		}
		return m
	}
	step1 := decode("STEP1")
	for key, want := range map[string]any{"stdout": "", "stderr": "", "exit_code": float64(0), "done": false} {
		if step1[key] != want {
			t.Errorf("step 1: %q = %#v, want %#v (manual's response); got %v", key, step1[key], want, step1)
		}
	}
	step2 := decode("STEP2")
	if step2["exit_code"] != float64(0) || !strings.Contains(step2["stdout"].(string), "Directory listing") {
		t.Errorf("step 2: the web server did not answer: %v", step2)
	}
	step3 := decode("STEP3")
	if !strings.Contains(step3["stdout"].(string), "http.server") {
		t.Errorf("step 3: ps aux does not show the server: %v", step3)
	}
	pid, err := strconv.Atoi(steps["PID"])
	if err != nil || pid <= 0 {
		t.Fatalf("step 4: PROCESS_PID %q is not one pid", steps["PID"])
	}
	if pid != int(step1["pid"].(float64)) {
		t.Errorf("pgrep found %d, the sidecar started %v", pid, step1["pid"])
	}
	step4 := decode("STEP4")
	if step4["success"] != true || step4["message"] != fmt.Sprintf("signal SIGTERM sent to process %d", pid) {
		t.Errorf("step 4: %v", step4)
	}
	step5 := decode("STEP5")
	if step5["exit_code"] != float64(1) || step5["stdout"] != "" {
		t.Errorf("after SIGTERM the server is still there: %v", step5)
	}
	// unshare ignores SIGTERM: signal the sidecar (pid 1 of the namespace)
	// itself, as the kubelet would.
	children, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", sidecar.cmd.Process.Pid, sidecar.cmd.Process.Pid))
	inner, convErr := strconv.Atoi(strings.TrimSpace(string(children)))
	if err != nil || convErr != nil {
		t.Fatalf("find the sidecar under unshare: %q %v %v", children, err, convErr)
	}
	if err := syscall.Kill(inner, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-sidecar.exited:
		if code := sidecar.cmd.ProcessState.ExitCode(); code != 0 {
			t.Errorf("serve exited %d after SIGTERM", code)
		}
	case <-time.After(15 * time.Second):
		t.Errorf("serve did not stop on SIGTERM")
	}
}

func TestServeStopsGracefullyOnSIGTERM(t *testing.T) {
	port := freePort(t)
	sidecar := start(t, binary, "serve", "--http-addr=127.0.0.1:"+strconv.Itoa(port), "--grpc-addr=127.0.0.1:"+strconv.Itoa(freePort(t)), "--workspace="+t.TempDir())
	waitHealth(t, "http://127.0.0.1:"+strconv.Itoa(port), 200)
	if code := sidecar.stop(t); code != 0 {
		t.Fatalf("exit code %d after SIGTERM, want 0\n%s", code, sidecar.log.String())
	}
	if !strings.Contains(sidecar.log.String(), `"msg":"stopping"`) {
		t.Fatalf("no JSON log line for the stop:\n%s", sidecar.log.String())
	}
}

func TestInstallCopiesItselfAtomically(t *testing.T) {
	dest := filepath.Join(t.TempDir(), "arl", "bin", "arl-sidecar")
	out, err := exec.Command(binary, "install", dest).CombinedOutput()
	if err != nil {
		t.Fatalf("install: %v\n%s", err, out)
	}
	info, err := os.Stat(dest)
	if err != nil || info.Mode().Perm() != 0o755 {
		t.Fatalf("installed file: %v mode %v", err, info.Mode())
	}
	src, _ := os.ReadFile(binary)
	dst, _ := os.ReadFile(dest)
	if len(src) == 0 || string(src) != string(dst) {
		t.Fatalf("installed copy differs (%d vs %d bytes)", len(dst), len(src))
	}
	if v, err := exec.Command(dest, "version").Output(); err != nil || len(v) == 0 {
		t.Fatalf("installed copy does not run: %v", err)
	}
	entries, _ := os.ReadDir(filepath.Dir(dest))
	if len(entries) != 1 {
		t.Fatalf("temp files left next to the copy: %v", entries)
	}
}

// The token comes from --token-file (or ARL_SIDECAR_TOKEN); health stays open.
func TestServeTokenFromFileAndEnv(t *testing.T) {
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("file-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, token string
		args        []string
		env         string
	}{
		{"file", "file-token", []string{"--token-file=" + tokenFile}, ""},
		{"env", "env-token", nil, "ARL_SIDECAR_TOKEN=env-token"},
	} {
		t.Run(c.name, func(t *testing.T) {
			port := freePort(t)
			url := "http://127.0.0.1:" + strconv.Itoa(port)
			argv := append([]string{binary, "serve", "--http-addr=127.0.0.1:" + strconv.Itoa(port), "--grpc-addr=", "--workspace=" + t.TempDir()}, c.args...)
			if c.env != "" {
				argv = append([]string{"env", c.env}, argv...)
			}
			start(t, argv...)
			waitHealth(t, url, http.StatusOK)
			if status, body := post(t, url+"/execute", `{"command": ["true"]}`); status != http.StatusUnauthorized || body["code"] != float64(16) {
				t.Fatalf("without token: %d %v", status, body)
			}
			req, _ := http.NewRequest("POST", url+"/execute", strings.NewReader(`{"command": ["echo", "ok"]}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+c.token)
			resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var body map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			if resp.StatusCode != 200 || body["stdout"] != "ok\n" {
				t.Fatalf("with token: %d %v", resp.StatusCode, body)
			}
		})
	}
}
