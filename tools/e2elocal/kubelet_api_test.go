//go:build e2elocal

package e2elocal

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// testKubeletAPI proves the apiserver reaches the node's kubelet API with
// the generated certificates: logs, exec and port-forward through kubectl.
func testKubeletAPI(t *testing.T) {
	requireNode(t)
	cs := newClientset(t)
	name, value, _ := strings.Cut(marker, "=")
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "main", Image: "python:3.11-slim",
			Command: []string{"sh", "-c", "echo hello-from-pod; exec python3 -m http.server 5000"},
			Env:     []corev1.EnvVar{{Name: name, Value: value}},
			ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{
				TCPSocket: &corev1.TCPSocketAction{Port: intOrString(5000)},
			}, PeriodSeconds: 1},
		}}},
	}
	got, err := cs.CoreV1().Pods("default").Create(t.Context(), pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create pod: %v", err)
	}
	podUIDs = append(podUIDs, string(got.UID))
	cluster.Kubectl(t, "wait", "--for=condition=Ready", "pod/web", "--timeout=30s")

	if out := cluster.Kubectl(t, "logs", "web"); !strings.Contains(out, "hello-from-pod") {
		t.Errorf("kubectl logs web = %q, want hello-from-pod", out)
	}
	if out := cluster.Kubectl(t, "exec", "web", "--", "sh", "-c", "echo exec-$((6*7))"); strings.TrimSpace(out) != "exec-42" {
		t.Errorf("kubectl exec = %q, want exec-42", out)
	}
	port := portForward(t, "pod/web", 5000)
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%s/", port))
	if err != nil {
		t.Fatalf("GET through port-forward: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "Directory listing") {
		t.Fatalf("GET through port-forward: %d %q", resp.StatusCode, body)
	}
}

var forwardingFrom = regexp.MustCompile(`Forwarding from 127\.0\.0\.1:(\d+) ->`)

// portForward runs kubectl port-forward to a free local port until the test
// ends and returns that port.
func portForward(t *testing.T, target string, remote int) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, cluster.Bin("kubectl"), "port-forward", target, fmt.Sprintf(":%d", remote))
	cmd.Env = append(os.Environ(), "KUBECONFIG="+cluster.Kubeconfig())
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("kubectl port-forward: %v", err)
	}
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := forwardingFrom.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
	}()
	select {
	case port := <-found:
		return port
	case <-time.After(15 * time.Second):
		t.Fatalf("kubectl port-forward %s printed no local port in 15s", target)
		return ""
	}
}
