//go:build realnode

package realnode

import (
	"strings"
	"testing"
	"time"

	fw "github.com/arl-infra/arl/e2e/framework"
)

// libcFreePool runs the node's busybox image, a static busybox and nothing
// else: no libc, no dynamic loader. The sidecar the init container copies
// in, and the agent that wraps the executor, must run there unaided.
const libcFreePool = `apiVersion: arl.infra.io/v1alpha1
kind: WarmPool
metadata:
  name: libc-free-pool
spec:
  replicas: 1
  template:
    spec:
      containers:
        - name: executor
          image: arl.local/busybox:1
          command: ["sleep", "3600"]
---
apiVersion: arl.infra.io/v1alpha1
kind: Sandbox
metadata:
  name: libc-free-sandbox
spec:
  poolRef: libc-free-pool
  keepAlive: true
---
apiVersion: arl.infra.io/v1alpha1
kind: Task
metadata:
  name: libc-free-task
spec:
  sandboxRef: libc-free-sandbox
  steps:
    - name: write
      type: FilePatch
      path: /workspace/hello.sh
      content: "echo hello from $(uname -s) without libc"
    - name: run
      type: Command
      command: ["sh", "/workspace/hello.sh"]
`

// A pool whose executor image has no libc serves Tasks: the static sidecar
// and agent run inside it.
func TestLibcFreeExecutorImageServesTasks(t *testing.T) {
	t.Cleanup(func() {
		_, _ = fw.KErr("delete", "task/libc-free-task", "sandbox/libc-free-sandbox", "warmpool/libc-free-pool", "--ignore-not-found")
	})
	fw.ApplyYAML(t, libcFreePool)
	var state string
	fw.Eventually(t, 3*time.Minute, "the task to finish", func() bool {
		state = fw.JSONPath(t, "task/libc-free-task", ".status.state")
		return state == "Succeeded" || state == "Failed"
	})
	if state != "Succeeded" {
		t.Fatalf("task %s: %s", state, fw.K(t, "get", "task/libc-free-task", "-o", "jsonpath={.status}"))
	}
	if out := fw.JSONPath(t, "task/libc-free-task", ".status.stdout"); !strings.Contains(out, "hello from Linux without libc") {
		t.Fatalf("task stdout %q, want the script's line", out)
	}
	pod := fw.JSONPath(t, "sandbox/libc-free-sandbox", ".status.podName")
	out, err := fw.KErr("exec", pod, "-c", "executor", "--", "sh", "-c", "ls /lib /lib64 /usr/lib 2>/dev/null | grep -c 'libc\\.so\\|ld-linux' || true")
	if err != nil {
		t.Fatalf("kubectl exec into the executor: %v %s", err, out)
	}
	if strings.TrimSpace(out) != "0" {
		t.Fatalf("the executor image has %s libc/loader files: not the libc-free image this test needs", strings.TrimSpace(out))
	}
}
