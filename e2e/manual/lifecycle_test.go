package manual

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	fw "github.com/arl-infra/arl/e2e/framework"
)

// 50 sandboxes created at once from a pool of 50 get 50 distinct pods, each
// bound to its sandbox.
func TestConcurrentSandboxesGetDistinctPods(t *testing.T) {
	burst(t, "burst", 50, false)
}

// Sandboxes created while the operator is killed (no grace period) all get
// their own pod, bound to them: whatever the dying operator promised, wrote
// or bound, the next one finishes and gives to nobody else.
func TestSandboxesCreatedAcrossAnOperatorRestartGetDistinctPods(t *testing.T) {
	burst(t, "restart-burst", 12, true)
	fw.K(t, "wait", "--for=condition=Available", "deployment/arl-operator", "-n", "arl-system", "--timeout=120s")
}

// burst creates a pool of n and n sandboxes at once (killing the operator
// right after, when restart is set), then checks that every sandbox got a
// distinct pod and that each pod is bound to its sandbox.
func burst(t *testing.T, name string, n int, restart bool) {
	var b strings.Builder
	fmt.Fprintf(&b, `apiVersion: arl.infra.io/v1alpha1
kind: WarmPool
metadata:
  name: %[1]s-pool
spec:
  replicas: %[2]d
  sidecarAuth: None
  template:
    spec:
      containers:
        - name: executor
          image: python:3.9-slim
          command: ["sleep", "infinity"]
`, name, n)
	fw.ApplyYAML(t, b.String())
	defer fw.K(t, "delete", "warmpool", name+"-pool", "--ignore-not-found")
	fw.Eventually(t, 4*time.Minute, fmt.Sprintf("%s-pool to have %d ready pods", name, n), func() bool {
		out, _ := fw.KErr("get", "warmpool", name+"-pool", "-o", "jsonpath={.status.readyReplicas}")
		return out == fmt.Sprint(n)
	})
	sandboxes := func(from, to int) string {
		var b strings.Builder
		for i := from; i < to; i++ {
			fmt.Fprintf(&b, "---\napiVersion: arl.infra.io/v1alpha1\nkind: Sandbox\nmetadata:\n  name: %s-%d\n  labels: {burst: %q}\nspec:\n  poolRef: %s-pool\n  keepAlive: true\n", name, i, name, name)
		}
		return b.String()
	}
	if restart {
		// The first half races the kill; the second half waits for the
		// next operator, which finds the first half's pods taken.
		var killed sync.WaitGroup
		killed.Go(func() {
			fw.K(t, "delete", "pod", "-n", "arl-system", "-l", "app=arl-operator", "--wait=false", "--force", "--grace-period=0")
		})
		fw.ApplyYAML(t, sandboxes(0, n/2))
		killed.Wait()
		fw.ApplyYAML(t, sandboxes(n/2, n))
	} else {
		fw.ApplyYAML(t, sandboxes(0, n))
	}
	defer fw.K(t, "delete", "sandbox", "-l", "burst="+name, "--ignore-not-found")
	fw.Eventually(t, 3*time.Minute, fmt.Sprintf("%d sandboxes Ready", n), func() bool {
		out, _ := fw.KErr("get", "sandbox", "-l", "burst="+name, "-o", "jsonpath={.items[*].status.phase}")
		return strings.Count(out, "Ready") == n
	})
	out := fw.K(t, "get", "sandbox", "-l", "burst="+name, "-o", `jsonpath={range .items[*]}{.metadata.name}={.status.podName}{"\n"}{end}`)
	podOf := map[string]string{} // sandbox -> pod
	sandboxOf := map[string]string{}
	for _, line := range strings.Fields(out) {
		sb, pod, _ := strings.Cut(line, "=")
		if other, taken := sandboxOf[pod]; taken {
			t.Errorf("pod %s was given to sandboxes %s and %s", pod, other, sb)
		}
		sandboxOf[pod], podOf[sb] = sb, pod
	}
	if len(sandboxOf) != n {
		t.Errorf("%d distinct pods for %d sandboxes: %v", len(sandboxOf), n, podOf)
	}
	// The status and the bind are written in parallel: the bind lands too.
	var bound string
	defer func() {
		if t.Failed() {
			t.Logf("allocated pods (pod=sandbox-label/owner-kind/owner-name):\n%s", bound)
		}
	}()
	fw.Eventually(t, time.Minute, "every pod labelled and owned by its sandbox", func() bool {
		bound, _ = fw.KErr("get", "pods", "-l", "arl.infra.io/pool="+name+"-pool,arl.infra.io/state=allocated", "-o",
			`jsonpath={range .items[*]}{.metadata.name}={.metadata.labels.arl\.infra\.io/sandbox}/{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}{"\n"}{end}`)
		got := 0
		for _, line := range strings.Fields(bound) {
			pod, owner, _ := strings.Cut(line, "=")
			sb := sandboxOf[pod]
			if sb != "" && owner == sb+"/Sandbox/"+sb {
				got++
			}
		}
		return got == n
	})
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
