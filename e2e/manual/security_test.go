package manual

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fw "github.com/arl-infra/arl/e2e/framework"
	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

// The hardening of issue 12 (docs/security.md, section 3) on the real
// cluster: the operator sends a sidecar token only from the Secret it made
// for the pod, a Task never follows its sandbox's name into a new sandbox,
// and with the operator down a write its webhook must check is refused
// with an error naming the webhook.

// readySecuritySandbox makes the pool sec-pool and the sandbox name, waits
// until the sandbox is Ready and removes both when the test ends.
func readySecuritySandbox(t *testing.T, name string) *arlv1.Sandbox {
	t.Helper()
	t.Cleanup(func() {
		fw.DeleteNoWait(t, fw.Named[arlv1.Sandbox](name))
		fw.DeleteNoWait(t, fw.Named[arlv1.WarmPool]("sec-pool"))
	})
	fw.Recreate(t, fw.Pool("sec-pool", 1), fw.Sandbox(name, "sec-pool"))
	return fw.WaitSandboxReady(t, name, 2*time.Minute)
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
	pod := readySecuritySandbox(t, sb).Status.PodName
	token := fw.SidecarToken(t, pod)
	fw.Delete(t, fw.Named[corev1.Secret](arlv1.SidecarTokenSecretName(pod)))
	fw.Create(t, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: arlv1.SidecarTokenSecretName(pod)},
		Data:       map[string][]byte{arlv1.SidecarTokenSecretKey: []byte(token)},
	})

	fw.Recreate(t, fw.Task("sec-secret-task", sb, fw.Command("mark", "bash", "-c", "touch /workspace/ran")))
	task := fw.WaitTask(t, "sec-secret-task", arlv1.TaskStateFailed, time.Minute)
	if task.Status.Reason != arlv1.TaskReasonTokenSecretUntrusted {
		t.Fatalf("reason %q (%s), want TokenSecretUntrusted", task.Status.Reason, task.Status.Message)
	}
	t.Logf("message: %s", task.Status.Message)
	if exists(t, pod, "/workspace/ran") {
		t.Fatal("the step ran")
	}
	fw.DeleteNoWait(t, task)
}

// A task paused in a sandbox (the operator stopped between its steps) whose
// sandbox is then deleted and created again under the same name fails with
// SandboxReplaced: its next step never runs in the new sandbox. While the
// operator is down, a WarmPool write (always checked by its webhook) is
// refused with the API server's error naming the webhook.
func TestRecreatedSandboxNeverRunsTheOldOnesSteps(t *testing.T) {
	const sb = "sec-recreate"
	oldUID := readySecuritySandbox(t, sb).UID
	task := fw.Task("sec-recreate-task", sb,
		fw.Command("first", "bash", "-c", "echo first >> /workspace/steps.log; sleep 3"),
		fw.Command("second", "bash", "-c", "echo second >> /workspace/steps.log"))
	task.Spec.Timeout = &metav1.Duration{Duration: time.Minute}
	fw.Recreate(t, task)
	fw.Until(t, time.Minute, "step first to run", func(c context.Context) (bool, string, error) {
		if err := fw.Client().Get(c, fw.Key(task.Name), task); err != nil {
			return false, "", err
		}
		return fw.StepState(task, "first") == arlv1.StepStateRunning, fw.DescribeTask(task), nil
	})

	// Stop the operator gracefully: step first ends, the attempt pauses.
	replicas := fw.OperatorReplicas(t)
	restore := func() {
		fw.ScaleOperator(t, replicas)
		fw.WaitOperatorAvailable(t, 2*time.Minute)
	}
	fw.ScaleOperator(t, 0)
	defer func() {
		if t.Failed() {
			restore()
		}
	}()
	fw.WaitOperatorGone(t, 2*time.Minute)
	fw.Get(t, task.Name, task)
	if r := task.Status.Reason; r != arlv1.TaskReasonPaused {
		t.Fatalf("after the stop: reason %q, want Paused", r)
	}
	if uid := task.Status.SandboxUID; uid != oldUID {
		t.Fatalf("status.sandboxUID %q, want the sandbox's uid %s", uid, oldUID)
	}

	// With the operator down, the webhook cannot answer.
	pool := &arlv1.WarmPool{}
	fw.Get(t, "sec-pool", pool)
	err := fw.Client().Patch(t.Context(), pool, client.RawPatch(types.MergePatchType, []byte(`{"spec":{"replicas":2}}`)))
	if err == nil {
		t.Fatalf("a WarmPool write was admitted with the operator down: replicas %d", pool.DesiredReplicas())
	}
	for _, want := range []string{`failed calling webhook "vwarmpool.arl.infra.io"`, "arl-webhook-service"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("admission error with the operator down does not say %q: %v", want, err)
		}
	}
	t.Logf("admission error with the operator down: %v", err)

	fw.Delete(t, fw.Named[arlv1.Sandbox](sb))
	restore()
	fw.Create(t, fw.Sandbox(sb, "sec-pool"))
	recreated := fw.WaitSandboxReady(t, sb, 2*time.Minute)
	if recreated.UID == oldUID {
		t.Fatal("the sandbox was not recreated")
	}
	task = fw.WaitTask(t, task.Name, arlv1.TaskStateFailed, time.Minute)
	if task.Status.Reason != arlv1.TaskReasonSandboxReplaced {
		t.Fatalf("reason %q (%s), want SandboxReplaced", task.Status.Reason, task.Status.Message)
	}
	if exists(t, recreated.Status.PodName, "/workspace/steps.log") {
		t.Fatal("a step of the old sandbox's task ran in the new sandbox")
	}
	fw.DeleteNoWait(t, task)
}

// Pool pods are hardened by default: the injected containers drop every
// capability and run as the executor's user when the template names one;
// /arl is read-only for sandbox code; and the quick start's steps (a file
// written by the sidecar, commands run by the agent, a file written into a
// directory the code made) still work with both as a non-root user.
func TestPoolPodsAreHardenedAndServeANonRootExecutor(t *testing.T) {
	const sb = "sec-user"
	pool := fw.Pool("sec-user-pool", 1)
	pool.Spec.Template.Spec.SecurityContext = &corev1.PodSecurityContext{RunAsUser: ptr.To[int64](1000), RunAsGroup: ptr.To[int64](1000)}
	t.Cleanup(func() {
		fw.DeleteNoWait(t, fw.Named[arlv1.Sandbox](sb))
		fw.DeleteNoWait(t, fw.Named[arlv1.WarmPool](pool.Name))
	})
	fw.Recreate(t, pool, fw.Sandbox(sb, pool.Name))
	pod := &corev1.Pod{}
	fw.Get(t, fw.WaitSandboxReady(t, sb, 2*time.Minute).Status.PodName, pod)
	hardened := map[string]*corev1.SecurityContext{}
	for _, c := range pod.Spec.Containers {
		hardened[c.Name] = c.SecurityContext
	}
	for _, c := range pod.Spec.InitContainers {
		hardened[c.Name] = c.SecurityContext
	}
	for _, name := range []string{arlv1.SidecarContainerName, arlv1.InstallInitContainerName} {
		sc := hardened[name]
		if sc == nil {
			t.Errorf("container %s has no securityContext (containers: %v)", name, hardened)
			continue
		}
		for what, ok := range map[string]bool{
			"allowPrivilegeEscalation: false": sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation,
			"capabilities.drop: [ALL]":        sc.Capabilities != nil && slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}),
			"readOnlyRootFilesystem: true":    ptr.Deref(sc.ReadOnlyRootFilesystem, false),
			"runAsNonRoot: true":              ptr.Deref(sc.RunAsNonRoot, false),
			"runAsUser: 1000":                 ptr.Deref(sc.RunAsUser, 0) == 1000,
			"seccompProfile: RuntimeDefault":  sc.SeccompProfile != nil && sc.SeccompProfile.Type == corev1.SeccompProfileTypeRuntimeDefault,
		} {
			if !ok {
				t.Errorf("%s securityContext %+v lacks %s", name, sc, what)
			}
		}
	}
	fw.Recreate(t, fw.Task("sec-user-task", sb,
		fw.FilePatch("write-code", "/workspace/hello.sh", "echo \"Hello from ARL!\"\n"),
		fw.Command("run-code", "sh", "-c", "sh /workspace/hello.sh; id -u; mkdir /workspace/made"),
		fw.FilePatch("write-into-made", "/workspace/made/note.txt", "written by the sidecar"),
		fw.Command("arl-is-read-only", "sh", "-c", "cat /workspace/made/note.txt; echo; if touch /arl/bin/x 2>/dev/null; then echo writable; else echo read-only; fi; test -S /run/arl/agent.sock && echo socket")))
	task := fw.WaitTask(t, "sec-user-task", arlv1.TaskStateSucceeded, time.Minute)
	out := task.Status.Stdout
	for _, want := range []string{"Hello from ARL!", "1000", "written by the sidecar", "read-only", "socket"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout %q lacks %q", out, want)
		}
	}
	if strings.Contains(out, "writable") {
		t.Errorf("sandbox code could write /arl: %q", out)
	}
	fw.DeleteNoWait(t, task)
}
