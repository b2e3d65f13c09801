//go:build realnode

package realnode

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	fw "github.com/arl-infra/arl/e2e/framework"
	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

// sandboxPod makes (unless they exist) a one-pod pool of the manual's image
// with a token-protected sidecar and a sandbox holding its pod, and returns
// the sandbox's pod.
func sandboxPod(t *testing.T) string {
	t.Helper()
	pool := fw.Pool("real-pool", 1)
	pool.Spec.Template.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "EXECUTOR_ONLY", Value: "seen-by-executor"}}
	fw.CreateIfMissing(t, pool, fw.Sandbox("real-sandbox", "real-pool"))
	return fw.WaitSandboxReady(t, "real-sandbox", 3*time.Minute).Status.PodName
}

func ctr(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := fw.Run(ctx, filepath.Join(fw.RepoRoot(), "bin", "ctr"), append([]string{"--address", containerdSocket(), "--namespace", "k8s.io"}, args...)...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// containersOf lists containerd's containers (and the pause sandbox) of pod.
func containersOf(t *testing.T, pod string) []string {
	t.Helper()
	return strings.Fields(ctr(t, "containers", "list", "-q", fmt.Sprintf(`labels."io.kubernetes.pod.name"==%s`, pod)))
}

// containerPID is the host PID of a container's first process, by name.
func containerPID(t *testing.T, pod, container string) string {
	t.Helper()
	ids := strings.Fields(ctr(t, "containers", "list", "-q",
		fmt.Sprintf(`labels."io.kubernetes.pod.name"==%s,labels."io.kubernetes.container.name"==%s`, pod, container)))
	if len(ids) != 1 {
		t.Fatalf("containerd has %d containers %s of pod %s, want 1: %v", len(ids), container, pod, ids)
	}
	for _, line := range strings.Split(ctr(t, "tasks", "list"), "\n") {
		if f := strings.Fields(line); len(f) >= 3 && f[0] == ids[0] {
			return f[1]
		}
	}
	t.Fatalf("containerd has no running task for container %s (%s) of pod %s", container, ids[0], pod)
	return ""
}

// The pool pod's containers run in containerd, the executor's root file
// system is the image's, and the executor and the sidecar have separate
// PID namespaces: the executor sees neither the sidecar's processes nor
// its environment (its token).
func TestExecutorCannotSeeTheSidecar(t *testing.T) {
	pod := sandboxPod(t)
	if ids := appContainersOf(t, pod); len(ids) != 3 { // arl-install (exited), executor, sidecar
		t.Errorf("containerd lists %d containers of pod %s, want 3 (arl-install, executor, sidecar): %v", len(ids), pod, ids)
	}
	ns := map[string]string{}
	for _, c := range []string{"executor", "sidecar"} {
		link, err := os.Readlink(filepath.Join("/proc", containerPID(t, pod, c), "ns", "pid"))
		if err != nil {
			t.Fatal(err)
		}
		ns[c] = link
	}
	if ns["executor"] == ns["sidecar"] {
		t.Errorf("executor and sidecar share the PID namespace %s", ns["executor"])
	}
	token := fw.SidecarToken(t, pod)
	procs := fw.K(t, "exec", pod, "-c", "executor", "--", "bash", "-c",
		`for p in /proc/[0-9]*; do tr '\0' ' ' < $p/cmdline; echo; done; cat /proc/[0-9]*/environ | tr '\0' '\n'`)
	if !strings.Contains(procs, "sleep infinity") || !strings.Contains(procs, "EXECUTOR_ONLY=seen-by-executor") {
		t.Fatalf("the executor does not see its own process and environment:\n%s", procs)
	}
	for _, foreign := range []string{"--agent-socket=", token, "ARL_SIDECAR_TOKEN"} {
		if strings.Contains(procs, foreign) {
			t.Errorf("the executor sees the sidecar's %q:\n%s", foreign, procs)
		}
	}
	if root := fw.K(t, "exec", pod, "-c", "executor", "--", "cat", "/etc/os-release"); !strings.Contains(root, "Debian") {
		t.Errorf("the executor's /etc/os-release is not the image's:\n%s", root)
	}
}

// The executor's image was pulled from the loopback registry by digest:
// its imageID is the digest the registry serves for python:3.9-slim.
func TestImagePulledByDigestFromTheRegistry(t *testing.T) {
	pod := sandboxPod(t)
	registry := strings.TrimSpace(readFile(t, filepath.Join(stateDir, "registry-address")))
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodHead, "http://"+registry+"/v2/library/python/manifests/3.9-slim", nil)
	req.Header.Set("Accept", "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("HEAD python:3.9-slim in the registry: %v", err)
	}
	resp.Body.Close()
	digest := resp.Header.Get("Docker-Content-Digest")
	if resp.StatusCode != 200 || digest == "" {
		t.Fatalf("registry %s: HEAD library/python:3.9-slim = %d, digest %q", registry, resp.StatusCode, digest)
	}
	imageIDs := map[string]string{}
	p := &corev1.Pod{}
	fw.Get(t, pod, p)
	for _, c := range p.Status.ContainerStatuses {
		imageIDs[c.Name] = c.ImageID
	}
	imageID := imageIDs[arlv1.ExecutorContainerName]
	if imageID != "docker.io/library/python@"+digest {
		t.Errorf("executor imageID %q, want docker.io/library/python@%s (pulled through the docker.io mirror)", imageID, digest)
	}
	sidecar := imageIDs[arlv1.SidecarContainerName]
	if !strings.HasPrefix(sidecar, registry+"/arl/arl-sidecar@sha256:") {
		t.Errorf("sidecar imageID %q, want %s/arl/arl-sidecar@sha256:...", sidecar, registry)
	}
}

// kubectl logs, exec and port-forward reach a pool pod's containers.
func TestKubectlLogsExecPortForward(t *testing.T) {
	pod := sandboxPod(t)
	if out := fw.K(t, "logs", pod, "-c", "sidecar"); strings.TrimSpace(out) == "" {
		t.Errorf("kubectl logs %s -c sidecar is empty", pod)
	}
	if out := fw.K(t, "exec", pod, "-c", "executor", "--", "python", "-c", "print(6*7)"); strings.TrimSpace(out) != "42" {
		t.Errorf("kubectl exec python: %q", out)
	}
	cmd := exec.Command(fw.Kubectl(), "port-forward", "pod/"+pod, ":8080")
	cmd.Env = fw.Env()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	buf := make([]byte, 256)
	n, err := stdout.Read(buf)
	if err != nil {
		t.Fatalf("port-forward printed nothing: %v", err)
	}
	var port int
	if _, err := fmt.Sscanf(strings.TrimSpace(string(buf[:n])), "Forwarding from 127.0.0.1:%d", &port); err != nil {
		t.Fatalf("port-forward said %q: %v", buf[:n], err)
	}
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/health", port))
	if err != nil {
		t.Fatalf("GET /health through port-forward: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Errorf("GET /health through port-forward: %d %s", resp.StatusCode, body)
	}
}

// TestDeletedSandboxLeavesContainerd: deleting a sandbox stops every
// process of its pod within seconds, and the kubelet removes the pod's
// containers and sandbox from containerd by its container GC.
//
// When the exited containers' records go depends on a race in the kubelet:
// it removes them at once if it handles their ContainerDied events after
// the pod left the API server, and otherwise at its next container GC
// (once a minute). Under load the second happens (seen: three exited
// containers of the pod still listed after 10 s, none running), so the
// seconds-bound is on the processes and the records get the GC's bound.
func TestDeletedSandboxLeavesContainerd(t *testing.T) {
	pod := sandboxPod(t)
	if len(appContainersOf(t, pod)) == 0 {
		t.Fatalf("containerd lists no container of pod %s", pod)
	}
	start := time.Now()
	fw.DeleteNoWait(t, fw.Named[arlv1.Sandbox]("real-sandbox"))
	var left, live []string
	defer func() {
		if t.Failed() {
			t.Logf("containers of %s left: %v; tasks not stopped: %v\n%s", pod, left, live, ctr(t, "tasks", "list"))
		}
	}()
	fw.Eventually(t, 10*time.Second, "containerd to stop every task (process) of "+pod+", its sandbox's included", func() bool {
		live = liveTasksOf(t, pod)
		return len(live) == 0
	})
	t.Logf("sandbox deleted to no process of its pod left in containerd: %s", time.Since(start).Round(time.Millisecond))
	fw.Eventually(t, 2*time.Minute, "the kubelet (container GC, once a minute) to remove the containers and the pod sandbox of "+pod, func() bool {
		left = containersOf(t, pod)
		return len(left) == 0
	})
	t.Logf("sandbox deleted to containers and pod sandbox removed: %s", time.Since(start).Round(time.Millisecond))
}

// appContainersOf lists containerd's containers of pod but its sandbox.
func appContainersOf(t *testing.T, pod string) []string {
	t.Helper()
	return strings.Fields(ctr(t, "containers", "list", "-q",
		fmt.Sprintf(`labels."io.kubernetes.pod.name"==%s,labels."io.cri-containerd.kind"==container`, pod)))
}

// liveTasksOf lists the tasks (processes) of pod's containers, its
// sandbox's included, that are not stopped.
func liveTasksOf(t *testing.T, pod string) []string {
	t.Helper()
	ids := map[string]bool{}
	for _, id := range containersOf(t, pod) {
		ids[id] = true
	}
	var live []string
	for _, line := range strings.Split(ctr(t, "tasks", "list"), "\n") {
		if f := strings.Fields(line); len(f) >= 3 && ids[f[0]] && f[2] != "STOPPED" {
			live = append(live, f[0]+" "+f[2])
		}
	}
	return live
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
