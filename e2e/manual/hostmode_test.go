package manual

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	fw "github.com/arl-infra/arl/e2e/framework"
	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

// way1 is the manual's "Way 1" sequence, its curl commands as written; AUTH
// holds the extra header for a token-protected sidecar (empty for a pool with
// sidecarAuth: None, where the manual's curls run letter for letter).
const way1 = `
set -euo pipefail
POD_IP=$(kubectl get sandbox ${SANDBOX} -o jsonpath='{.status.podIP}')

curl -s -X POST http://${POD_IP}:8080/execute "${AUTH[@]}" \
  -H "Content-Type: application/json" \
  -d '{
    "command": ["python", "-m", "http.server", "8000"],
    "working_dir": "/workspace",
    "background": true,
    "env": {
      "PYTHONUNBUFFERED": "1"
    }
  }' > start.json

for i in $(seq 1 50); do
  curl -s -X POST http://${POD_IP}:8080/execute "${AUTH[@]}" \
    -H "Content-Type: application/json" \
    -d '{
      "command": ["curl", "http://localhost:8000"],
      "timeout_seconds": 5
    }' > probe.json
  [ "$(jq -r .exit_code probe.json)" = 0 ] && break
  sleep 0.1
done

curl -s -X POST http://${POD_IP}:8080/execute "${AUTH[@]}" \
  -H "Content-Type: application/json" \
  -d '{
    "command": ["ps", "aux"]
  }' > ps.json

PROCESS_PID=$(curl -X POST http://${POD_IP}:8080/execute "${AUTH[@]}" \
  -H "Content-Type: application/json" \
  -d '{"command": ["pgrep", "-f", "http.server"]}' | jq -r '.stdout' | tr -d '\n')
echo "$PROCESS_PID" > pid.txt

curl -s -X POST http://${POD_IP}:8080/signal "${AUTH[@]}" \
  -H "Content-Type: application/json" \
  -d "{
    \"pid\": ${PROCESS_PID},
    \"signal\": \"SIGTERM\"
  }" > signal.json

sleep 0.5
curl -s -X POST http://${POD_IP}:8080/execute "${AUTH[@]}" \
  -H "Content-Type: application/json" \
  -d '{"command": ["pgrep", "-f", "http.server"]}' > after.json
`

type execResp struct {
	Stdout   string `json:"stdout"`
	Stderr   string `json:"stderr"`
	ExitCode *int   `json:"exit_code"`
	Done     *bool  `json:"done"`
}

func runWay1(t *testing.T, sandbox, authHeader string) {
	t.Helper()
	dir := t.TempDir()
	auth := "AUTH=()"
	if authHeader != "" {
		auth = fmt.Sprintf("AUTH=(-H %q)", authHeader)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", "SANDBOX="+sandbox+"\n"+auth+"\n"+way1)
	cmd.Dir = dir
	cmd.Env = fw.Env()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("way 1 sequence: %v\n%s", err, out)
	}
	read := func(name string) []byte {
		b, err := exec.Command("cat", dir+"/"+name).Output()
		if err != nil {
			t.Fatalf("read %s: %v", name, err)
		}
		return b
	}
	var start execResp
	if err := json.Unmarshal(read("start.json"), &start); err != nil {
		t.Fatalf("start response: %v: %s", err, read("start.json"))
	}
	if start.ExitCode == nil || *start.ExitCode != 0 || start.Done == nil || *start.Done || start.Stdout != "" || start.Stderr != "" {
		t.Errorf("background start response = %s; want the manual's {stdout:\"\", stderr:\"\", exit_code:0, done:false}", read("start.json"))
	}
	var probe execResp
	_ = json.Unmarshal(read("probe.json"), &probe)
	if probe.ExitCode == nil || *probe.ExitCode != 0 || !strings.Contains(probe.Stdout, "Directory listing") {
		t.Errorf("curl localhost:8000 through /execute = %s", read("probe.json"))
	}
	var ps execResp
	_ = json.Unmarshal(read("ps.json"), &ps)
	if !strings.Contains(ps.Stdout, "http.server") {
		t.Errorf("ps aux lacks the server:\n%s", ps.Stdout)
	}
	for _, foreign := range []string{"kube-apiserver", "etcd", "arl-operator"} {
		if strings.Contains(ps.Stdout, foreign) {
			t.Errorf("ps aux inside the sandbox shows a process outside it (%s):\n%s", foreign, ps.Stdout)
		}
	}
	pid := strings.TrimSpace(string(read("pid.txt")))
	var sig struct {
		Success bool   `json:"success"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal(read("signal.json"), &sig); err != nil {
		t.Fatalf("signal response: %v: %s", err, read("signal.json"))
	}
	if !sig.Success || sig.Message != "signal SIGTERM sent to process "+pid {
		t.Errorf("signal response = %s (pid %s)", read("signal.json"), pid)
	}
	var after execResp
	_ = json.Unmarshal(read("after.json"), &after)
	if after.ExitCode == nil || *after.ExitCode != 1 {
		t.Errorf("pgrep after SIGTERM = %s; want exit 1 (no such process)", read("after.json"))
	}
}

// Way 1 against the manual's pool: its sidecar wants the sandbox's token.
func TestHostModeWay1WithToken(t *testing.T) {
	fw.NotOnRealNode(t, "the sequence runs curl, ps and pgrep in the executor; python:3.9-slim (Docker Hub's and the stand-in) has none of them")
	sb := quickStart(t)
	pod, ip := sb.Status.PodName, sb.Status.PodIP
	out, err := fw.Shell(context.Background(), `curl -s -o /dev/stderr -w '%{http_code}' -X POST http://`+ip+`:8080/execute -H "Content-Type: application/json" -d '{"command":["true"]}' 2>&1`)
	if err != nil || !strings.HasSuffix(out, "401") || !strings.HasPrefix(out, "{") || !strings.Contains(out, "token") {
		t.Errorf("a call without the token got %q (err %v); want 401 with a JSON body", out, err)
	}
	runWay1(t, "my-workspace", "Authorization: Bearer "+fw.SidecarToken(t, pod))
}

// Way 1 letter for letter against a pool that opted out of sidecar tokens.
func TestHostModeWay1OpenPool(t *testing.T) {
	fw.NotOnRealNode(t, "the sequence runs curl, ps and pgrep in the executor; python:3.9-slim (Docker Hub's and the stand-in) has none of them")
	pool := fw.Pool("open-pool", 1)
	pool.Spec.SidecarAuth = arlv1.SidecarAuthNone
	fw.Recreate(t, pool, fw.Sandbox("open-workspace", "open-pool"))
	fw.WaitSandboxReady(t, "open-workspace", 2*time.Minute)
	runWay1(t, "open-workspace", "")
	fw.Delete(t, fw.Named[arlv1.Sandbox]("open-workspace"))
	fw.Delete(t, pool)
}

// inExecutor is true when command succeeds in pod's executor container:
// the host's programs on the process node, the image's on the real node.
func inExecutor(pod string, command ...string) bool {
	_, err := fw.KErr(append([]string{"exec", pod, "-c", "executor", "--"}, command...)...)
	return err == nil
}

// serverAnswers polls http://localhost:5000 for up to 30 s.
const serverAnswers = `import time, urllib.request
for _ in range(150):
    try:
        urllib.request.urlopen("http://localhost:5000", timeout=1)
        break
    except OSError:
        time.sleep(0.2)
else:
    raise SystemExit(1)
`

// execOutput is what command prints in the pod's executor (or the error).
func execOutput(pod string, command ...string) string {
	out, err := fw.KErr(append([]string{"exec", pod, "-c", "executor", "--"}, command...)...)
	if err != nil {
		return fmt.Sprintf("%v: %s", err, out)
	}
	return out
}

// Way 2: a background Flask server started, tested and stopped by Tasks.
func TestHostModeWay2Flask(t *testing.T) {
	pod := quickStart(t).Status.PodName
	for _, n := range []string{"start-flask-server", "test-flask", "stop-flask", "kill-flask"} {
		fw.Delete(t, fw.Named[arlv1.Task](n))
	}
	fw.K(t, "apply", "-f", fw.Example("host-mode/start-flask-server.yaml"))
	fw.KWait(t, "task/start-flask-server", ".status.state", "Succeeded", 30*time.Second)
	pid := strings.TrimSpace(taskField(t, "start-flask-server", ".status.stdout"))
	if pid == "" || strings.Trim(pid, "0123456789") != "" {
		t.Fatalf("start-flask-server stdout = %q, want a PID", pid)
	}
	if !inExecutor(pod, "python", "-c", "import flask") {
		// Without Flask in the executor (the host's Python on the process
		// node, the image's on the real node) the server exits at once and
		// curl fails: a clean Failed task, not a hang.
		fw.K(t, "apply", "-f", fw.Example("host-mode/test-flask.yaml"))
		fw.KWait(t, "task/test-flask", ".status.state", "Failed", 30*time.Second)
		t.Log("flask is not installed in the executor: test-flask failed cleanly as expected")
		return
	}
	// The manual's test task gives the server 2 s to start; on a busy
	// 2-core machine importing Flask can take longer, so the test waits
	// until the server answers before it runs the manual's task.
	if !inExecutor(pod, "python", "-c", serverAnswers) {
		t.Fatalf("the Flask server never answered on :5000 (its log: %s)", execOutput(pod, "cat", "/tmp/flask.log"))
	}
	fw.K(t, "apply", "-f", fw.Example("host-mode/test-flask.yaml"))
	fw.KWait(t, "task/test-flask", ".status.state", "Succeeded", 30*time.Second)
	if got := taskField(t, "test-flask", ".status.stdout"); got != "Hello from ARL Host Mode!" {
		t.Errorf("test-flask stdout = %q", got)
	}
	// The manual's stop task, `pkill -f flask`, matches no process: the
	// server's command line is `python /workspace/app.py` (in any container,
	// not only here), so pkill exits 1 and the task ends Failed, promptly.
	fw.K(t, "apply", "-f", fw.Example("host-mode/stop-flask.yaml"))
	fw.KWait(t, "task/stop-flask", ".status.state", "Failed", 30*time.Second)
	if code := taskField(t, "stop-flask", ".status.exitCode"); code != "1" {
		t.Errorf("stop-flask exitCode = %q, want pkill's 1 (no process matched)", code)
	}
	// The manual's alternative, ["kill", "PID"], stops it.
	kill := fw.Task("kill-flask", "my-workspace",
		fw.Command("stop-server", "kill", pid),
		fw.Command("check-stopped", "bash", "-c", "for i in $(seq 1 50); do curl -s http://localhost:5000 >/dev/null || exit 0; sleep 0.1; done; exit 1"))
	kill.Spec.Timeout = &metav1.Duration{Duration: 10 * time.Second}
	fw.Create(t, kill)
	fw.WaitTask(t, "kill-flask", arlv1.TaskStateSucceeded, 30*time.Second)
}

// Way 3: an interactive shell with kubectl exec -it.
func TestHostModeWay3Exec(t *testing.T) {
	fw.NotOnRealNode(t, "the session runs curl in the executor; python:3.9-slim (Docker Hub's and the stand-in) has no curl")
	pod := quickStart(t).Status.PodName
	// `script` gives kubectl a terminal, as a person's shell would.
	session := `python -m http.server 8010 >/dev/null 2>&1 &
PYTHON_PID=$!
echo "Started HTTP server with PID: $PYTHON_PID"
for i in $(seq 1 50); do curl -s http://localhost:8010 >/dev/null && break; sleep 0.1; done
curl -s http://localhost:8010 | head -c 200
kill $PYTHON_PID
echo; echo EXEC-DONE
exit
`
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "script", "-qec", "kubectl exec -it "+pod+" -c executor -- /bin/bash", "/dev/null")
	cmd.Env = fw.Env()
	cmd.Stdin = strings.NewReader(session)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl exec -it: %v\n%s", err, out)
	}
	for _, want := range []string{"Started HTTP server with PID:", "Directory listing", "EXEC-DONE"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("interactive shell output lacks %q:\n%s", want, out)
		}
	}
}

// The Jupyter example: where jupyter is installed it starts; where it is
// not, the task still ends promptly with the error in its output.
func TestJupyterExample(t *testing.T) {
	fw.NotOnRealNode(t, "jupyter/scipy-notebook:latest is not in the local registry (no internet, no stand-in); its pool reports ImagePullFailed there")
	deleteJupyter := func() {
		fw.Delete(t, fw.Named[arlv1.Task]("start-jupyter"))
		fw.Delete(t, fw.Named[arlv1.Sandbox]("jupyter-workspace"))
		fw.Delete(t, fw.Named[arlv1.WarmPool]("jupyter-pool"))
	}
	deleteJupyter()
	fw.K(t, "apply", "-f", fw.Example("host-mode/jupyter-host.yaml"))
	sb := fw.WaitSandboxReady(t, "jupyter-workspace", 2*time.Minute)
	fw.K(t, "wait", "--for=jsonpath={.status.state}=Succeeded", "task/start-jupyter", "--timeout=60s")
	out := taskField(t, "start-jupyter", ".status.stdout")
	if !strings.Contains(out, "Jupyter started with PID:") {
		t.Errorf("start-jupyter stdout = %q", out)
	}
	if !inExecutor(sb.Status.PodName, "jupyter", "--version") && !strings.Contains(out, "jupyter") {
		t.Errorf("jupyter is not installed, and the task's output does not say so: %q", out)
	}
	deleteJupyter()
}
