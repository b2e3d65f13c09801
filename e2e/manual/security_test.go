package manual

import (
	"fmt"
	"strings"
	"testing"
	"time"

	fw "github.com/arl-infra/arl/e2e/framework"
)

// The hardening of issue 12 (docs/security.md, section 3) on the real
// cluster: the operator sends a sidecar token only from the Secret it made
// for the pod, a Task never follows its sandbox's name into a new sandbox,
// and with the operator down a write its webhook must check is refused
// with an error naming the webhook.

const securityPool = `apiVersion: arl.infra.io/v1alpha1
kind: WarmPool
metadata:
  name: sec-pool
spec:
  replicas: 1
  template:
    spec:
      containers:
        - name: executor
          image: python:3.9-slim
          command: ["sleep", "infinity"]
`

func securitySandbox(name string) string {
	return fmt.Sprintf("apiVersion: arl.infra.io/v1alpha1\nkind: Sandbox\nmetadata:\n  name: %s\nspec:\n  poolRef: sec-pool\n  keepAlive: true\n", name)
}

// readySecuritySandbox makes the pool and the sandbox name, and removes
// both when the test ends.
func readySecuritySandbox(t *testing.T, name string) {
	t.Helper()
	t.Cleanup(func() {
		fw.K(t, "delete", "sandbox", name, "--ignore-not-found")
		fw.K(t, "delete", "warmpool", "sec-pool", "--ignore-not-found")
	})
	fw.ApplyYAML(t, securityPool)
	fw.ApplyYAML(t, securitySandbox(name))
	fw.WaitFor(t, "sandbox/"+name, ".status.phase", "Ready", 2*time.Minute)
}

// exists reports whether path exists in the executor of pod.
func exists(t *testing.T, pod, path string) bool {
	t.Helper()
	out, err := fw.Shell(t.Context(), "kubectl exec "+pod+" -c executor -- bash -c 'test -e "+path+" && echo yes || echo no'")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(out) == "yes"
}

// A Secret put in place of the pod's token Secret (same name, same token,
// but not made by the operator: no owner reference to the pool, not the
// uid the pod was created with) is never used: the task fails with
// TokenSecretUntrusted and nothing runs.
func TestTokenFromASecretTheOperatorDidNotMakeIsNeverSent(t *testing.T) {
	const sb = "sec-secret"
	readySecuritySandbox(t, sb)
	pod := fw.JSONPath(t, "sandbox/"+sb, ".status.podName")
	token := fw.JSONPath(t, "secret/"+pod, ".data.token")
	fw.K(t, "delete", "secret", pod)
	fw.ApplyYAML(t, fmt.Sprintf("apiVersion: v1\nkind: Secret\nmetadata:\n  name: %s\ndata:\n  token: %s\n", pod, token))

	fw.K(t, "delete", "task", "sec-secret-task", "--ignore-not-found", "--wait=true")
	fw.ApplyYAML(t, `apiVersion: arl.infra.io/v1alpha1
kind: Task
metadata:
  name: sec-secret-task
spec:
  sandboxRef: sec-secret
  steps:
    - name: mark
      type: Command
      command: ["bash", "-c", "touch /workspace/ran"]
`)
	fw.K(t, "wait", "--for=condition=Failed", "task/sec-secret-task", "--timeout=60s")
	if reason := fw.JSONPath(t, "task/sec-secret-task", ".status.reason"); reason != "TokenSecretUntrusted" {
		t.Fatalf("reason %q (%s), want TokenSecretUntrusted", reason, fw.JSONPath(t, "task/sec-secret-task", ".status.message"))
	}
	t.Logf("message: %s", fw.JSONPath(t, "task/sec-secret-task", ".status.message"))
	if exists(t, pod, "/workspace/ran") {
		t.Fatal("the step ran")
	}
	fw.K(t, "delete", "task", "sec-secret-task")
}

// A task paused in a sandbox (the operator stopped between its steps) whose
// sandbox is then deleted and created again under the same name fails with
// SandboxReplaced: its next step never runs in the new sandbox. While the
// operator is down, a WarmPool write (always checked by its webhook) is
// refused with the API server's error naming the webhook.
func TestRecreatedSandboxNeverRunsTheOldOnesSteps(t *testing.T) {
	const sb = "sec-recreate"
	readySecuritySandbox(t, sb)
	oldUID := fw.JSONPath(t, "sandbox/"+sb, ".metadata.uid")
	fw.K(t, "delete", "task", "sec-recreate-task", "--ignore-not-found", "--wait=true")
	fw.ApplyYAML(t, `apiVersion: arl.infra.io/v1alpha1
kind: Task
metadata:
  name: sec-recreate-task
spec:
  sandboxRef: sec-recreate
  timeout: 60s
  steps:
    - name: first
      type: Command
      command: ["bash", "-c", "echo first >> /workspace/steps.log; sleep 3"]
    - name: second
      type: Command
      command: ["bash", "-c", "echo second >> /workspace/steps.log"]
`)
	fw.Eventually(t, time.Minute, "step first to run", func() bool {
		s, _ := fw.KErr("get", "task", "sec-recreate-task", "-o", `jsonpath={.status.steps[?(@.name=="first")].state}`)
		return s == "Running"
	})

	// Stop the operator gracefully: step first ends, the attempt pauses.
	replicas := fw.K(t, "get", "deployment/arl-operator", "-n", "arl-system", "-o", "jsonpath={.spec.replicas}")
	restore := func() {
		fw.K(t, "scale", "deployment/arl-operator", "-n", "arl-system", "--replicas="+replicas)
		fw.K(t, "wait", "--for=condition=Available", "deployment/arl-operator", "-n", "arl-system", "--timeout=120s")
	}
	fw.K(t, "scale", "deployment/arl-operator", "-n", "arl-system", "--replicas=0")
	defer func() {
		if t.Failed() {
			restore()
		}
	}()
	fw.Eventually(t, 2*time.Minute, "the operator's pods to be gone", func() bool {
		out, _ := fw.KErr("get", "pods", "-n", "arl-system", "-l", "app=arl-operator", "-o", "name")
		return strings.TrimSpace(out) == ""
	})
	if r := fw.JSONPath(t, "task/sec-recreate-task", ".status.reason"); r != "Paused" {
		t.Fatalf("after the stop: reason %q, want Paused", r)
	}
	if uid := fw.JSONPath(t, "task/sec-recreate-task", ".status.sandboxUID"); uid != oldUID {
		t.Fatalf("status.sandboxUID %q, want the sandbox's uid %s", uid, oldUID)
	}

	// With the operator down, the webhook cannot answer.
	out, err := fw.KErr("patch", "warmpool/sec-pool", "--type=merge", "-p", `{"spec":{"replicas":2}}`)
	if err == nil {
		t.Fatalf("a WarmPool write was admitted with the operator down: %s", out)
	}
	for _, want := range []string{`failed calling webhook "vwarmpool.arl.infra.io"`, "arl-webhook-service"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("admission error with the operator down does not say %q: %v", want, err)
		}
	}
	t.Logf("admission error with the operator down: %v", err)

	fw.K(t, "delete", "sandbox", sb, "--wait=true")
	restore()
	fw.ApplyYAML(t, securitySandbox(sb))
	fw.WaitFor(t, "sandbox/"+sb, ".status.phase", "Ready", 2*time.Minute)
	if uid := fw.JSONPath(t, "sandbox/"+sb, ".metadata.uid"); uid == oldUID {
		t.Fatal("the sandbox was not recreated")
	}
	fw.K(t, "wait", "--for=condition=Failed", "task/sec-recreate-task", "--timeout=60s")
	if reason := fw.JSONPath(t, "task/sec-recreate-task", ".status.reason"); reason != "SandboxReplaced" {
		t.Fatalf("reason %q (%s), want SandboxReplaced", reason, fw.JSONPath(t, "task/sec-recreate-task", ".status.message"))
	}
	if exists(t, fw.JSONPath(t, "sandbox/"+sb, ".status.podName"), "/workspace/steps.log") {
		t.Fatal("a step of the old sandbox's task ran in the new sandbox")
	}
	fw.K(t, "delete", "task", "sec-recreate-task")
}

// Pool pods are hardened by default: the injected containers drop every
// capability and run as the executor's user when the template names one;
// /arl is read-only for sandbox code; and the quick start's steps (a file
// written by the sidecar, commands run by the agent, a file written into a
// directory the code made) still work with both as a non-root user.
func TestPoolPodsAreHardenedAndServeANonRootExecutor(t *testing.T) {
	const pool, sb = "sec-user-pool", "sec-user"
	t.Cleanup(func() {
		fw.K(t, "delete", "sandbox", sb, "--ignore-not-found")
		fw.K(t, "delete", "warmpool", pool, "--ignore-not-found")
	})
	fw.ApplyYAML(t, `apiVersion: arl.infra.io/v1alpha1
kind: WarmPool
metadata:
  name: sec-user-pool
spec:
  replicas: 1
  template:
    spec:
      securityContext:
        runAsUser: 1000
        runAsGroup: 1000
      containers:
        - name: executor
          image: python:3.9-slim
          command: ["sleep", "infinity"]
`)
	fw.ApplyYAML(t, "apiVersion: arl.infra.io/v1alpha1\nkind: Sandbox\nmetadata:\n  name: sec-user\nspec:\n  poolRef: sec-user-pool\n  keepAlive: true\n")
	fw.WaitFor(t, "sandbox/"+sb, ".status.phase", "Ready", 2*time.Minute)
	pod := fw.JSONPath(t, "sandbox/"+sb, ".status.podName")
	for _, c := range []string{`containers[?(@.name=="sidecar")]`, `initContainers[?(@.name=="arl-install")]`} {
		got := fw.JSONPath(t, "pod/"+pod, ".spec."+c+".securityContext")
		for _, want := range []string{`"allowPrivilegeEscalation":false`, `"drop":["ALL"]`, `"readOnlyRootFilesystem":true`,
			`"runAsNonRoot":true`, `"runAsUser":1000`, `"type":"RuntimeDefault"`} {
			if !strings.Contains(got, want) {
				t.Errorf("%s securityContext %s lacks %s", c, got, want)
			}
		}
	}

	fw.K(t, "delete", "task", "sec-user-task", "--ignore-not-found", "--wait=true")
	fw.ApplyYAML(t, `apiVersion: arl.infra.io/v1alpha1
kind: Task
metadata:
  name: sec-user-task
spec:
  sandboxRef: sec-user
  steps:
    - name: write-code
      type: FilePatch
      path: /workspace/hello.sh
      content: |
        echo "Hello from ARL!"
    - name: run-code
      type: Command
      command: ["sh", "-c", "sh /workspace/hello.sh; id -u; mkdir /workspace/made"]
    - name: write-into-made
      type: FilePatch
      path: /workspace/made/note.txt
      content: "written by the sidecar"
    - name: arl-is-read-only
      type: Command
      command: ["sh", "-c", "cat /workspace/made/note.txt; echo; if touch /arl/bin/x 2>/dev/null; then echo writable; else echo read-only; fi; test -S /run/arl/agent.sock && echo socket"]
`)
	fw.K(t, "wait", "--for=condition=Complete", "task/sec-user-task", "--timeout=60s")
	out := fw.JSONPath(t, "task/sec-user-task", ".status.stdout")
	for _, want := range []string{"Hello from ARL!", "1000", "written by the sidecar", "read-only", "socket"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout %q lacks %q", out, want)
		}
	}
	if strings.Contains(out, "writable") {
		t.Errorf("sandbox code could write /arl: %q", out)
	}
	fw.K(t, "delete", "task", "sec-user-task")
}
