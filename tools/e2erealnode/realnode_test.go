//go:build e2erealnode

package e2erealnode

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// podYAML is a pod on the kubelet node of two containers from the
// libc-free busybox image built here: "app" prints a line, keeps a secret
// in its environment and sleeps; "web" serves a file over HTTP.
const podYAML = `apiVersion: v1
kind: Pod
metadata:
  name: real
  namespace: default
spec:
  nodeName: arl-kubelet
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: arl.local/busybox:1
    command: ["sh", "-c", "echo hello from the real node; exec sleep 3600"]
    env: [{name: APP_SECRET, value: only-app-sees-this}]
  - name: web
    image: arl.local/busybox:1
    command: ["sh", "-c", "echo served-by-busybox > /tmp/index.html; exec httpd -f -p 8080 -h /tmp"]
    ports: [{containerPort: 8080}]
`

// processPodYAML is a pod on the process node serving a file over HTTP
// (its python is the host's).
const processPodYAML = `apiVersion: v1
kind: Pod
metadata:
  name: proc
  namespace: default
spec:
  nodeName: arl-node
  terminationGracePeriodSeconds: 1
  containers:
  - name: web
    image: python:3.9-slim
    command: ["sh", "-c", "echo served-by-the-process-node > /www/index.html; exec python3 -m http.server 8081 --directory /www"]
    volumeMounts: [{name: www, mountPath: /www}]
  volumes: [{name: www, emptyDir: {}}]
`

// TestRealNode runs the two nodes side by side (up --node=both, without
// the operator) and checks the kubelet node, the network between the two,
// and that down leaves nothing behind.
func TestRealNode(t *testing.T) {
	before := snapshotHost(t)
	steps := []struct {
		name string
		fn   func(t *testing.T)
	}{
		{"FailedKubeletStartSaysWhy", testFailedKubeletStart},
		{"UpWithBothNodes", testUp},
		{"NodeReadyOnContainerd", testNodeReady},
		{"PodFromLocalImageRuns", testPodRuns},
		{"ContainerdRanThePod", testContainerdRanIt},
		{"RootFilesystemIsTheImages", testRootFS},
		{"SeparatePIDNamespaces", testPIDNamespaces},
		{"ServiceIPReachesAPIServer", testServiceIP},
		{"PortForward", testPortForward},
		{"PodsOfBothNodesReachEachOther", testBothNodesNetwork},
		{"DeletedPodLeavesContainerd", testDeletePod},
		{"PythonStandInRuns", testPythonStandIn},
		{"DownLeavesNothing", func(t *testing.T) { testDownLeavesNothing(t, before) }},
	}
	for _, s := range steps {
		if !t.Run(s.name, s.fn) {
			t.Fatalf("%s failed; later steps depend on it", s.name)
		}
	}
}

// A kubelet that cannot start (its root directory is a file) makes up fail
// with the kubelet's own reason and the path of its log.
func testFailedKubeletStart(t *testing.T) {
	blocker := filepath.Join(cluster.StateDir, "realnode", "kubelet")
	if err := os.MkdirAll(filepath.Dir(blocker), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(blocker, []byte("not a directory\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(blocker)
	full := []string{"--repo=" + cluster.Repo, "--state-dir=" + cluster.StateDir, fmt.Sprintf("--instance=%d", instance), "up", "--node=kubelet", "--no-operator", "--timeout=60s"}
	out, err := exec.Command(cluster.ArlLocal, full...).CombinedOutput()
	if err == nil {
		t.Fatalf("up succeeded with the kubelet's root directory blocked by a file:\n%s", out)
	}
	logPath := filepath.Join(cluster.StateDir, "kubelet.log")
	for _, want := range []string{logPath, "not a directory"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("up's error does not name %q:\n%s", want, lastLines(string(out), 40))
		}
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func testUp(t *testing.T) {
	out, _ := cluster.Arl(t, 40*time.Minute, "up", "--node=both", "--no-operator", "--timeout=120s")
	t.Logf("up:\n%s", out)
}

func testNodeReady(t *testing.T) {
	out := cluster.Kubectl(t, "get", "node", nodeName, "-o", `jsonpath={.status.nodeInfo.containerRuntimeVersion} {.status.nodeInfo.kubeletVersion} {.status.conditions[?(@.type=="Ready")].status}`)
	if !strings.HasPrefix(out, "containerd://") || !strings.Contains(out, "v1.37.2") || !strings.HasSuffix(out, "True") {
		t.Fatalf("node %s: runtime, kubelet version, Ready = %q; want containerd://..., v1.37.2, True", nodeName, out)
	}
	if out := cluster.Kubectl(t, "get", "node", processNodeName, "-o", `jsonpath={.status.conditions[?(@.type=="Ready")].status}`); out != "True" {
		t.Fatalf("node %s (the process node, --node=both): Ready = %q, want True", processNodeName, out)
	}
}

func testPodRuns(t *testing.T) {
	apply(t, podYAML)
	eventually(t, 2*time.Minute, "pod real Ready", func() (bool, string) {
		out, _ := cluster.KubectlErr("get", "pod", "real", "-o", `jsonpath={.spec.nodeName} {.status.conditions[?(@.type=="Ready")].status} {.status.containerStatuses[*].state}`)
		return strings.HasPrefix(out, nodeName+" True"), out
	})
	eventually(t, 30*time.Second, "kubectl logs", func() (bool, string) {
		out, _ := cluster.KubectlErr("logs", "real", "-c", "app")
		return strings.Contains(out, "hello from the real node"), out
	})
}

func testContainerdRanIt(t *testing.T) {
	out := ctr(t, "containers", "list")
	if n := strings.Count(out, "arl.local/busybox:1"); n != 2 {
		t.Fatalf("containerd lists %d containers of arl.local/busybox:1, want 2 (app, web):\n%s", n, out)
	}
	if !strings.Contains(out, "arl.local/pause:1") {
		t.Fatalf("containerd lists no pod sandbox from arl.local/pause:1:\n%s", out)
	}
}

func testRootFS(t *testing.T) {
	out := cluster.Kubectl(t, "exec", "real", "-c", "app", "--", "ls", "/")
	for _, want := range []string{"bin", "tmp", "proc"} {
		if !strings.Contains(out, want) {
			t.Errorf("ls / in the container lacks %s:\n%s", want, out)
		}
	}
	if _, err := cluster.KubectlErr("exec", "real", "-c", "app", "--", "ls", "/usr/lib"); err == nil {
		t.Errorf("/usr/lib exists in the busybox container: its root is not the image's")
	}
	if _, err := cluster.KubectlErr("exec", "real", "-c", "app", "--", "ls", "/lib/x86_64-linux-gnu/libc.so.6"); err == nil {
		t.Errorf("the container has a libc: its root is not the libc-free image")
	}
}

func testPIDNamespaces(t *testing.T) {
	ps := cluster.Kubectl(t, "exec", "real", "-c", "web", "--", "ps")
	if strings.Contains(ps, "sleep 3600") {
		t.Errorf("container web sees app's processes (shared PID namespace):\n%s", ps)
	}
	env, _ := cluster.KubectlErr("exec", "real", "-c", "web", "--", "sh", "-c", "cat /proc/*/environ 2>/dev/null | tr '\\0' '\\n'")
	if strings.Contains(env, "only-app-sees-this") {
		t.Errorf("container web can read app's environment")
	}
	own := cluster.Kubectl(t, "exec", "real", "-c", "app", "--", "sh", "-c", "echo $APP_SECRET; ps")
	if !strings.Contains(own, "only-app-sees-this") || !strings.Contains(own, "sleep 3600") {
		t.Errorf("container app does not see its own env and process:\n%s", own)
	}
}

func testServiceIP(t *testing.T) {
	out, err := cluster.KubectlErr("exec", "real", "-c", "app", "--", "sh", "-c", "echo | nc -w 3 $KUBERNETES_SERVICE_HOST $KUBERNETES_SERVICE_PORT && echo connected")
	if err != nil || !strings.Contains(out, "connected") {
		t.Fatalf("a pod cannot open a TCP connection to the kubernetes Service (kube-proxy): %v\n%s", err, out)
	}
}

func testPortForward(t *testing.T) {
	cmd := exec.Command(cluster.Bin("kubectl"), "port-forward", "pod/real", ":8080")
	cmd.Env = append(cmd.Environ(), "KUBECONFIG="+cluster.Kubeconfig())
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
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/index.html", port))
	if err != nil {
		t.Fatalf("GET through port-forward: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(body), "served-by-busybox") {
		t.Fatalf("GET through port-forward: %d %q", resp.StatusCode, body)
	}
}

func testDeletePod(t *testing.T) {
	start := time.Now()
	cluster.Kubectl(t, "delete", "pod", "real", "--wait=false")
	eventually(t, 15*time.Second, "containerd removes the pod's containers", func() (bool, string) {
		out := ctr(t, "containers", "list")
		return !strings.Contains(out, "arl.local/busybox:1"), out
	})
	t.Logf("pod deleted to containers gone in containerd: %s", time.Since(start).Round(time.Millisecond))
}

func testDownLeavesNothing(t *testing.T, before hostState) {
	out, _ := cluster.Arl(t, 3*time.Minute, "down")
	t.Logf("down:\n%s", out)
	if left := diffHost(before, snapshotHost(t)); len(left) > 0 {
		t.Fatalf("down left %d things behind:\n%s", len(left), strings.Join(left, "\n"))
	}
}

// The manual's pools name python:3.9-slim; on the real node that name is
// the stand-in built from Debian's packages (docs/real-node.md).
func testPythonStandIn(t *testing.T) {
	cluster.Kubectl(t, "run", "py", "--image=python:3.9-slim", "--restart=Never", `--overrides={"spec":{"nodeName":"`+nodeName+`"}}`, "--command", "--",
		"python", "-c", "import sys, json, sqlite3, ssl; print('python', sys.version.split()[0])")
	eventually(t, 2*time.Minute, "pod py Succeeded", func() (bool, string) {
		out, _ := cluster.KubectlErr("get", "pod", "py", "-o", "jsonpath={.status.phase} {.status.containerStatuses[0].state}")
		return strings.HasPrefix(out, "Succeeded"), out
	})
	out := cluster.Kubectl(t, "logs", "py")
	if !strings.Contains(out, "python 3.") {
		t.Fatalf("python stand-in printed %q", out)
	}
	t.Logf("stand-in: %s", strings.TrimSpace(out))
	cluster.Kubectl(t, "delete", "pod", "py", "--wait=false")
}

// With both nodes, the host reaches the pods of both, and a pod on each
// node reaches the other's server: the kubelet node's pods route through
// their default gateway (the host), the process node's pods through the
// route arl-node adds for the kubelet node's pod range (--route).
func testBothNodesNetwork(t *testing.T) {
	apply(t, processPodYAML)
	eventually(t, 2*time.Minute, "pod proc Ready on "+processNodeName, func() (bool, string) {
		out, _ := cluster.KubectlErr("get", "pod", "proc", "-o", `jsonpath={.spec.nodeName} {.status.conditions[?(@.type=="Ready")].status} {.status.containerStatuses[*].state}`)
		return strings.HasPrefix(out, processNodeName+" True"), out
	})
	realIP := cluster.Kubectl(t, "get", "pod", "real", "-o", "jsonpath={.status.podIP}")
	procIP := cluster.Kubectl(t, "get", "pod", "proc", "-o", "jsonpath={.status.podIP}")
	realURL := "http://" + realIP + ":8080/index.html"
	procURL := "http://" + procIP + ":8081/index.html"
	const fromReal, fromProc = "served-by-busybox", "served-by-the-process-node"

	for url, want := range map[string]string{realURL: fromReal, procURL: fromProc} {
		eventually(t, 30*time.Second, "the host GETs "+url, func() (bool, string) {
			resp, err := http.Get(url)
			if err != nil {
				return false, err.Error()
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			return strings.Contains(string(body), want), fmt.Sprintf("%d %q", resp.StatusCode, body)
		})
	}
	// busybox's nc: its wget dies of SIGSEGV in this image (exit 139).
	out, err := cluster.KubectlErr("exec", "real", "-c", "app", "--", "sh", "-c",
		`printf 'GET /index.html HTTP/1.0\r\n\r\n' | nc -w 5 "$0" 8081`, procIP)
	if err != nil || !strings.Contains(out, fromProc) {
		t.Errorf("the kubelet node's pod %s cannot GET %s on the process node: %v\n%s", realIP, procURL, err, out)
	}
	out, err = cluster.KubectlErr("exec", "proc", "--", "python3", "-c",
		"import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())", realURL)
	if err != nil || !strings.Contains(out, fromReal) {
		t.Errorf("the process node's pod %s cannot GET %s on the kubelet node: %v\n%s", procIP, realURL, err, out)
	}
	cluster.Kubectl(t, "delete", "pod", "proc", "--wait=false")
}

func apply(t *testing.T, yaml string) {
	t.Helper()
	cmd := exec.Command(cluster.Bin("kubectl"), "apply", "-f", "-")
	cmd.Env = append(cmd.Environ(), "KUBECONFIG="+cluster.Kubeconfig())
	cmd.Stdin = strings.NewReader(yaml)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("kubectl apply: %v\n%s", err, out)
	}
}
