package manual

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	fw "github.com/arl-infra/arl/e2e/framework"
)

// 50 sandboxes created at once from a pool of 50 get 50 distinct pods.
func TestConcurrentSandboxesGetDistinctPods(t *testing.T) {
	const n = 50
	var b strings.Builder
	fmt.Fprintf(&b, `apiVersion: arl.infra.io/v1alpha1
kind: WarmPool
metadata:
  name: burst-pool
spec:
  replicas: %d
  sidecarAuth: None
  template:
    spec:
      containers:
        - name: executor
          image: python:3.9-slim
          command: ["sleep", "infinity"]
`, n)
	fw.ApplyYAML(t, b.String())
	defer fw.K(t, "delete", "warmpool", "burst-pool", "--ignore-not-found")
	fw.Eventually(t, 4*time.Minute, fmt.Sprintf("burst-pool to have %d ready pods", n), func() bool {
		out, _ := fw.KErr("get", "warmpool", "burst-pool", "-o", "jsonpath={.status.readyReplicas}")
		return out == fmt.Sprint(n)
	})
	b.Reset()
	for i := range n {
		fmt.Fprintf(&b, "---\napiVersion: arl.infra.io/v1alpha1\nkind: Sandbox\nmetadata:\n  name: burst-%d\n  labels: {burst: \"yes\"}\nspec:\n  poolRef: burst-pool\n  keepAlive: true\n", i)
	}
	fw.ApplyYAML(t, b.String())
	defer fw.K(t, "delete", "sandbox", "-l", "burst=yes", "--ignore-not-found")
	fw.Eventually(t, 2*time.Minute, "50 sandboxes Ready", func() bool {
		out, _ := fw.KErr("get", "sandbox", "-l", "burst=yes", "-o", "jsonpath={.items[*].status.phase}")
		return strings.Count(out, "Ready") == n
	})
	out := fw.K(t, "get", "sandbox", "-l", "burst=yes", "-o", "jsonpath={.items[*].status.podName}")
	pods := strings.Fields(out)
	sort.Strings(pods)
	seen := map[string]bool{}
	for _, p := range pods {
		if seen[p] {
			t.Errorf("pod %s was given to two sandboxes", p)
		}
		seen[p] = true
	}
	if len(seen) != n {
		t.Errorf("%d distinct pods for %d sandboxes: %v", len(seen), n, pods)
	}
}

// The operator killed while tasks run: afterwards no step ran twice and every
// task finishes.
func TestOperatorRestartRunsNoStepTwice(t *testing.T) {
	quickStart(t)
	const n = 6
	names := make([]string, n)
	var b strings.Builder
	for i := range n {
		names[i] = fmt.Sprintf("restart-%d", i)
		fw.K(t, "delete", "task", names[i], "--ignore-not-found", "--wait=true")
		fmt.Fprintf(&b, `---
apiVersion: arl.infra.io/v1alpha1
kind: Task
metadata:
  name: %[1]s
spec:
  sandboxRef: my-workspace
  timeout: 60s
  steps:
    - name: mark
      type: Command
      command: ["bash", "-c", "echo run >> /workspace/%[1]s.count; sleep 2"]
    - name: count
      type: Command
      command: ["bash", "-c", "wc -l < /workspace/%[1]s.count"]
`, names[i])
	}
	if _, err := fw.Shell(t.Context(), "kubectl -n default exec "+fw.JSONPath(t, "sandbox/my-workspace", ".status.podName")+" -c executor -- bash -c 'rm -f /workspace/restart-*.count'"); err != nil {
		t.Fatal(err)
	}
	fw.ApplyYAML(t, b.String())
	time.Sleep(700 * time.Millisecond)
	fw.K(t, "delete", "pod", "-n", "arl-system", "-l", "app=arl-operator", "--wait=false")
	var wg sync.WaitGroup
	for _, name := range names {
		wg.Go(func() {
			fw.Eventually(t, 2*time.Minute, name+" to finish", func() bool {
				s, _ := fw.KErr("get", "task", name, "-o", "jsonpath={.status.state}")
				return s == "Succeeded" || s == "Failed"
			})
		})
	}
	wg.Wait()
	pod := fw.JSONPath(t, "sandbox/my-workspace", ".status.podName")
	for _, name := range names {
		count, err := fw.Shell(t.Context(), "kubectl exec "+pod+" -c executor -- bash -c 'cat /workspace/"+name+".count 2>/dev/null | wc -l'")
		if err != nil {
			t.Fatal(err)
		}
		if strings.TrimSpace(count) != "1" {
			t.Errorf("task %s: its first step ran %s times, want exactly once (state %s, message %q)", name, strings.TrimSpace(count),
				fw.JSONPath(t, "task/"+name, ".status.state"), fw.JSONPath(t, "task/"+name, ".status.message"))
		}
	}
	fw.K(t, "wait", "--for=condition=Available", "deployment/arl-operator", "-n", "arl-system", "--timeout=120s")
}
