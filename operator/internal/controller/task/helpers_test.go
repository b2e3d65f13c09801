package task

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

var nameSeq atomic.Int64

var nonDNS = regexp.MustCompile(`[^a-z0-9]+`)

// uniqueName makes a DNS-1123 name from the test's name.
func uniqueName(t testing.TB, suffix string) string {
	base := strings.Trim(nonDNS.ReplaceAllString(strings.ToLower(t.Name()), "-"), "-")
	if len(base) > 40 {
		base = base[len(base)-40:]
	}
	return strings.Trim(fmt.Sprintf("%s-%s-%d", base, suffix, nameSeq.Add(1)), "-")
}

// testDir is a fresh directory inside the sidecar's workspace.
func testDir(t testing.TB) string {
	dir := filepath.Join(workspace, uniqueName(t, "dir"))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func command(name string, argv ...string) arlv1.TaskStep {
	return arlv1.TaskStep{Name: name, Type: arlv1.StepTypeCommand, Command: argv}
}

func filePatch(name, path, content string) arlv1.TaskStep {
	return arlv1.TaskStep{Name: name, Type: arlv1.StepTypeFilePatch, Path: path, Content: content}
}

func newTask(ns, name, sandbox string, steps ...arlv1.TaskStep) *arlv1.Task {
	return &arlv1.Task{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec:       arlv1.TaskSpec{SandboxRef: sandbox, Steps: steps},
	}
}

func create(t testing.TB, obj client.Object) {
	t.Helper()
	if err := k8s.Create(context.Background(), obj); err != nil {
		t.Fatalf("create %T %s: %v", obj, obj.GetName(), err)
	}
}

// readySandbox creates a keepAlive Sandbox of the test pool in ns and
// writes a Ready status pointing at the test sidecar, with workDir dir.
func createReadySandbox(t testing.TB, ns, name, dir string) *arlv1.Sandbox {
	t.Helper()
	sb := &arlv1.Sandbox{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec:       arlv1.SandboxSpec{PoolRef: testPool, KeepAlive: true},
	}
	create(t, sb)
	setSandboxStatus(t, sb, arlv1.SandboxPhaseReady, podOf(sb), dir)
	return sb
}

// podOf is the name of the pod a test sandbox's status names.
func podOf(sb *arlv1.Sandbox) string { return sb.Name + "-pod" }

// setSandboxStatus writes a sandbox's status as the Sandbox controller
// would. A pod name other than "" gets, as the operator makes them, a token
// Secret controlled by the pool (unless one exists: secretFor) and a pod
// controlled by the sandbox, naming that Secret's uid, at 127.0.0.1 (where
// the test sidecar listens).
func setSandboxStatus(t testing.TB, sb *arlv1.Sandbox, phase arlv1.SandboxPhase, pod, dir string) {
	t.Helper()
	if pod != "" {
		ensureSandboxPod(t, sb, pod)
	}
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var cur arlv1.Sandbox
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(sb), &cur); err != nil {
			return err
		}
		cur.Status.Phase = phase
		cur.Status.PodName = pod
		cur.Status.WorkDir = dir
		cur.Status.PodIP = ""
		if phase == arlv1.SandboxPhaseReady || phase == arlv1.SandboxPhaseBound {
			cur.Status.PodIP = "127.0.0.1"
		}
		return k8s.Status().Update(context.Background(), &cur)
	})
	if err != nil {
		t.Fatalf("set sandbox %s status: %v", sb.Name, err)
	}
}

// ensureSandboxPod creates the pod (and its token Secret) a sandbox's
// status names, unless it exists.
func ensureSandboxPod(t testing.TB, sb *arlv1.Sandbox, name string) *corev1.Pod {
	t.Helper()
	ctx := context.Background()
	pod := &corev1.Pod{}
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: sb.Namespace, Name: name}, pod); err == nil {
		return pod
	}
	secret := &corev1.Secret{}
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: sb.Namespace, Name: name}, secret); apierrors.IsNotFound(err) {
		secret = secretFor(t, sb.Namespace, name, sidecarToken)
		create(t, secret)
	} else if err != nil {
		t.Fatal(err)
	}
	var live arlv1.Sandbox
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(sb), &live); err != nil {
		t.Fatal(err)
	}
	pod = &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: sb.Namespace,
			Labels:          map[string]string{arlv1.LabelPool: testPool, arlv1.LabelState: arlv1.PodStateAllocated, arlv1.LabelSandbox: sb.Name},
			Annotations:     map[string]string{arlv1.AnnotationTokenSecretUID: string(secret.UID)},
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(&live, arlv1.GroupVersion.WithKind("Sandbox"))},
		},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: arlv1.ExecutorContainerName, Image: "python:3.9-slim"}}},
	}
	create(t, pod)
	pod.Status.PodIP = "127.0.0.1"
	pod.Status.PodIPs = []corev1.PodIP{{IP: "127.0.0.1"}}
	if err := k8s.Status().Update(ctx, pod); err != nil {
		t.Fatalf("set pod %s status: %v", name, err)
	}
	return pod
}

// waitTask polls the API until cond holds for the task.
func waitTask(t testing.TB, ns, name string, timeout time.Duration, what string, cond func(*arlv1.Task) bool) *arlv1.Task {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var task arlv1.Task
	for {
		err := k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, &task)
		if err == nil && cond(&task) {
			return &task
		}
		if err != nil && !apierrors.IsNotFound(err) {
			t.Fatalf("get task %s: %v", name, err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("task %s: not %s within %v; status: %+v", name, what, timeout, task.Status)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func waitFinished(t testing.TB, ns, name string, timeout time.Duration) *arlv1.Task {
	t.Helper()
	return waitTask(t, ns, name, timeout, "finished", (*arlv1.Task).IsFinished)
}

func exitCodeOf(task *arlv1.Task) string {
	if task.Status.ExitCode == nil {
		return "<nil>"
	}
	return fmt.Sprint(*task.Status.ExitCode)
}

func stepStates(task *arlv1.Task) string {
	var s []string
	for _, st := range task.Status.Steps {
		s = append(s, st.Name+"="+string(st.State))
	}
	return strings.Join(s, ",")
}

func countLines(t testing.TB, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), "\n")
}

// eventReasons lists the reasons of the events about a task.
func eventReasons(t testing.TB, ns, name string) map[string]bool {
	t.Helper()
	var list eventsv1.EventList
	if err := k8s.List(context.Background(), &list, client.InNamespace(ns)); err != nil {
		t.Fatalf("list events: %v", err)
	}
	reasons := map[string]bool{}
	for _, e := range list.Items {
		if e.Regarding.Kind == "Task" && e.Regarding.Name == name {
			reasons[e.Reason] = true
		}
	}
	return reasons
}

// secretFor is a token Secret as the WarmPool controller makes it: named
// like the pod, labelled with and controlled by the test pool of ns.
func secretFor(t testing.TB, ns, pod, token string) *corev1.Secret {
	t.Helper()
	var pool arlv1.WarmPool
	if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: testPool}, &pool); err != nil {
		t.Fatalf("get pool: %v", err)
	}
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: pod, Namespace: ns,
			Labels:          map[string]string{arlv1.LabelPool: testPool},
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(&pool, arlv1.GroupVersion.WithKind("WarmPool"))},
		},
		Data: map[string][]byte{arlv1.SidecarTokenSecretKey: []byte(token)},
	}
}

// waitEvents waits until events with every reason are recorded for a task.
func waitEvents(t testing.TB, ns, name string, reasons ...string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := eventReasons(t, ns, name)
		missing := ""
		for _, r := range reasons {
			if !got[r] {
				missing = r
			}
		}
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("task %s: no %s event within 5s; got %v", name, missing, got)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
