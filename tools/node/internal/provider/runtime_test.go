package provider

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/virtual-kubelet/virtual-kubelet/node/api"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/arl-infra/arl/tools/node/internal/netsetup"
	"github.com/arl-infra/arl/tools/node/internal/sandbox"
)

// These tests run real pods (namespaces, veths, processes) through the
// provider, without an apiserver.

const runtimeTestBridge = "arltest1"

func TestMain(m *testing.M) {
	sandbox.MaybeRunInit()
	os.Exit(m.Run())
}

type notified struct {
	mu   sync.Mutex
	pods []*corev1.Pod
}

func (n *notified) add(p *corev1.Pod) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.pods = append(n.pods, p)
}

// last is the pod's latest reported status; an empty pod before the first
// report (reports are coalesced, see statusCoalesceWindow).
func (n *notified) last(uid types.UID) *corev1.Pod {
	n.mu.Lock()
	defer n.mu.Unlock()
	for i := len(n.pods) - 1; i >= 0; i-- {
		if n.pods[i].UID == uid {
			return n.pods[i]
		}
	}
	return &corev1.Pod{}
}

func newTestProvider(t *testing.T) (*Provider, *notified) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("runtime tests create namespaces and veths: run them as root")
	}
	for _, tool := range []string{"ip", "nsenter", "python3"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("runtime tests need %s (apt-get install iproute2 util-linux python3)", tool)
		}
	}
	dir := t.TempDir()
	ipam, err := netsetup.NewIPAM(filepath.Join(dir, "ipam.json"), "10.251.0.0/24")
	if err != nil {
		t.Fatal(err)
	}
	if err := netsetup.EnsureBridge(runtimeTestBridge, ipam.Gateway(), 24); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = netsetup.DeleteBridge(runtimeTestBridge) })
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(Config{
		NodeName: "test-node", StateDir: dir, Self: self, Bridge: runtimeTestBridge, IPAM: ipam,
		HostIP: ipam.Gateway().String(), APIServerHost: ipam.Gateway().String(), APIServerPort: 6443,
		NodePath: os.Getenv("PATH"), Images: ImageBinaries{"example.com/tool": "/bin/echo"},
	})
	if err != nil {
		t.Fatal(err)
	}
	n := &notified{}
	p.NotifyPods(context.Background(), n.add)
	return p, n
}

func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func podReady(p *corev1.Pod) bool {
	if p == nil {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

type bufWriteCloser struct{ bytes.Buffer }

func (b *bufWriteCloser) Close() error { return nil }

type testAttach struct {
	stdout, stderr bufWriteCloser
}

func (a *testAttach) Stdin() io.Reader            { return nil }
func (a *testAttach) Stdout() io.WriteCloser      { return &a.stdout }
func (a *testAttach) Stderr() io.WriteCloser      { return &a.stderr }
func (a *testAttach) TTY() bool                   { return false }
func (a *testAttach) Resize() <-chan api.TermSize { return nil }

func TestPodLifecycle(t *testing.T) {
	p, n := newTestProvider(t)
	ctx := context.Background()
	grace := int64(5)
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", UID: "11111111-aaaa-bbbb-cccc-000000000001"},
		Spec: corev1.PodSpec{
			TerminationGracePeriodSeconds: &grace,
			Volumes: []corev1.Volume{
				{Name: "workspace", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
				{Name: "arl-tools", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
			},
			InitContainers: []corev1.Container{
				{Name: "first", Image: "busybox", Command: []string{"sh", "-c", "echo first >> /arl/order"},
					VolumeMounts: []corev1.VolumeMount{{Name: "arl-tools", MountPath: "/arl"}}},
				{Name: "second", Image: "busybox", Command: []string{"sh", "-c", "echo second >> /arl/order"},
					VolumeMounts: []corev1.VolumeMount{{Name: "arl-tools", MountPath: "/arl"}}},
			},
			Containers: []corev1.Container{
				{Name: "writer", Image: "python:3.9-slim", Command: []string{"sh", "-c", "echo \"$POD_IP $MY_NAME\" > /workspace/who; echo started; exec sleep infinity"},
					Env: []corev1.EnvVar{
						{Name: "POD_IP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIP"}}},
						{Name: "MY_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
					},
					VolumeMounts:   []corev1.VolumeMount{{Name: "workspace", MountPath: "/workspace"}, {Name: "arl-tools", MountPath: "/arl"}},
					ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"test", "-f", "/workspace/who"}}}}},
				{Name: "server", Image: "python:3.9-slim", Command: []string{"python3", "-m", "http.server", "5000", "--directory", "/workspace"},
					WorkingDir:     "/workspace",
					VolumeMounts:   []corev1.VolumeMount{{Name: "workspace", MountPath: "/workspace"}},
					ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/who", Port: intstr.FromInt32(5000)}}}},
			},
		},
	}
	start := time.Now()
	if err := p.CreatePod(ctx, pod); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "pod Ready", 20*time.Second, func() bool { return podReady(n.last(pod.UID)) })
	t.Logf("pod start to Ready: %v", time.Since(start))

	got := n.last(pod.UID)
	if got.Status.Phase != corev1.PodRunning || got.Status.PodIP == "" {
		t.Fatalf("phase %s podIP %q", got.Status.Phase, got.Status.PodIP)
	}
	for _, cs := range got.Status.InitContainerStatuses {
		if cs.State.Terminated == nil || cs.State.Terminated.ExitCode != 0 || cs.State.Terminated.Reason != "Completed" {
			t.Fatalf("init container %s: %+v", cs.Name, cs.State)
		}
	}
	resp, err := http.Get("http://" + got.Status.PodIP + ":5000/who")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.TrimSpace(string(body)) != got.Status.PodIP+" web" {
		t.Fatalf("the server container read %q from the writer's /workspace/who, want %q", body, got.Status.PodIP+" web")
	}

	a := &testAttach{}
	if err := p.RunInContainer(ctx, "default", "web", "writer", []string{"cat", "/arl/order"}, a); err != nil {
		t.Fatalf("exec: %v (stderr %s)", err, a.stderr.String())
	}
	if a.stdout.String() != "first\nsecond\n" {
		t.Fatalf("init containers ran as %q, want first then second", a.stdout.String())
	}
	a = &testAttach{}
	if err := p.RunInContainer(ctx, "default", "web", "writer", []string{"sh", "-c", "hostname; ps -e -o args"}, a); err != nil {
		t.Fatalf("exec: %v", err)
	}
	// Exec lands in the writer's own PID namespace (the pod does not
	// share one): the writer's init and sleep, not the server's python.
	out := a.stdout.String()
	if !strings.HasPrefix(out, "web\n") || !strings.Contains(out, "container-init") || !strings.Contains(out, "sleep infinity") ||
		strings.Contains(out, "http.server") || strings.Contains(out, "pod-init") || strings.Contains(out, "systemd") {
		t.Fatalf("exec sees the wrong hostname or processes:\n%s", out)
	}
	err = p.RunInContainer(ctx, "default", "web", "writer", []string{"sh", "-c", "exit 3"}, &testAttach{})
	if err == nil || !strings.Contains(err.Error(), "exit status 3") {
		t.Fatalf("exec exit code: %v", err)
	}

	logs, err := p.GetContainerLogs(ctx, "default", "web", "writer", api.ContainerLogOpts{})
	if err != nil {
		t.Fatal(err)
	}
	logText, _ := io.ReadAll(logs)
	if string(logText) != "started\n" {
		t.Fatalf("logs = %q", logText)
	}

	var pids []int
	for _, c := range p.lookup("default", "web").allContainers() {
		c.pr.mu.Lock()
		if c.pid != 0 {
			pids = append(pids, c.pid)
		}
		c.pr.mu.Unlock()
	}
	pids = append(pids, p.lookup("default", "web").sb.InitPid())
	deleted := pod.DeepCopy()
	now := metav1.Now()
	deleted.DeletionTimestamp = &now
	deleted.DeletionGracePeriodSeconds = &grace
	start = time.Now()
	if err := p.DeletePod(ctx, deleted); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "pod forgotten", 10*time.Second, func() bool { _, err := p.GetPod(ctx, "default", "web"); return err != nil })
	t.Logf("delete to processes gone and cleaned up: %v", time.Since(start))
	if time.Since(start) > 2*time.Second {
		t.Errorf("deletion took %v, want under 2 s", time.Since(start))
	}
	final := n.last(pod.UID)
	for _, cs := range final.Status.ContainerStatuses {
		if cs.State.Terminated == nil {
			t.Errorf("container %s not terminated after delete: %+v", cs.Name, cs.State)
		}
	}
	if len(pids) != 3 {
		t.Fatalf("want the two containers' and the pod init's PIDs, got %v", pids)
	}
	for _, pid := range pids {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
			t.Fatalf("pod process %d survived deletion", pid)
		}
	}
	netns, _ := netsetup.NamesFor(string(pod.UID))
	if _, err := os.Stat("/run/netns/" + netns); err == nil {
		t.Fatalf("network namespace %s survived", netns)
	}
	if _, err := os.Stat(filepath.Join(p.cfg.StateDir, "pods", string(pod.UID))); err == nil {
		t.Fatalf("pod dir survived")
	}
}

func TestMissingCommandCrashLoops(t *testing.T) {
	p, n := newTestProvider(t)
	ctx := context.Background()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "bad", Namespace: "default", UID: "11111111-aaaa-bbbb-cccc-000000000002"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{
			{Name: "main", Image: "python:3.9-slim", Command: []string{"definitely-not-a-command"}},
			{Name: "mapped", Image: "example.com/tool:v2", Args: []string{"hello from the mapped binary"}},
		}},
	}
	if err := p.CreatePod(ctx, pod); err != nil {
		t.Fatal(err)
	}
	var main corev1.ContainerStatus
	waitFor(t, "CrashLoopBackOff", 10*time.Second, func() bool {
		got := n.last(pod.UID)
		if got == nil {
			return false
		}
		for _, cs := range got.Status.ContainerStatuses {
			if cs.Name == "main" {
				main = cs
				return cs.State.Waiting != nil && cs.State.Waiting.Reason == "CrashLoopBackOff"
			}
		}
		return false
	})
	last := main.LastTerminationState.Terminated
	if last == nil || last.Reason != "StartError" || last.ExitCode != 128 || !strings.Contains(last.Message, "definitely-not-a-command") {
		t.Fatalf("last state = %+v", main.LastTerminationState)
	}
	if main.RestartCount < 1 {
		t.Fatalf("restartCount = %d", main.RestartCount)
	}
	// The mapped image runs /bin/echo, which exits and is restarted: its
	// previous run's log holds the line.
	var text []byte
	waitFor(t, "previous logs of the mapped container", 10*time.Second, func() bool {
		logs, err := p.GetContainerLogs(ctx, "default", "bad", "mapped", api.ContainerLogOpts{Previous: true})
		if err != nil {
			return false
		}
		text, _ = io.ReadAll(logs)
		return len(text) > 0
	})
	if string(text) != "hello from the mapped binary\n" {
		t.Fatalf("previous logs of the mapped image = %q", text)
	}
	// The node still runs other pods.
	ok := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "ok", Namespace: "default", UID: "11111111-aaaa-bbbb-cccc-000000000003"},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "x", Command: []string{"sleep", "infinity"}}}},
	}
	if err := p.CreatePod(ctx, ok); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "second pod Ready", 10*time.Second, func() bool { return podReady(n.last(ok.UID)) })
	for _, pd := range []*corev1.Pod{pod, ok} {
		d := pd.DeepCopy()
		zero := int64(0)
		d.DeletionGracePeriodSeconds = &zero
		if err := p.DeletePod(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "pods gone", 10*time.Second, func() bool { pods, _ := p.GetPods(ctx); return len(pods) == 0 })
}

func TestCompletedPodFreesItsNetworkAndKeepsLogs(t *testing.T) {
	p, n := newTestProvider(t)
	ctx := context.Background()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "job", Namespace: "default", UID: "44444444-aaaa-bbbb-cccc-000000000001"},
		Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{
			{Name: "c", Image: "busybox", Command: []string{"sh", "-c", "echo done"}},
		}},
	}
	if err := p.CreatePod(ctx, pod); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "Succeeded", 10*time.Second, func() bool {
		got := n.last(pod.UID)
		return got != nil && got.Status.Phase == corev1.PodSucceeded
	})
	netns, _ := netsetup.NamesFor(string(pod.UID))
	// The phase is reported before the release finishes, so wait for both the
	// namespace and the address to go.
	waitFor(t, "network namespace and IP freed", 5*time.Second, func() bool {
		_, err := os.Stat("/run/netns/" + netns)
		return err != nil && len(p.cfg.IPAM.Owners()) == 0
	})
	logs, err := p.GetContainerLogs(ctx, "default", "job", "c", api.ContainerLogOpts{})
	if err != nil {
		t.Fatal(err)
	}
	if text, _ := io.ReadAll(logs); string(text) != "done\n" {
		t.Fatalf("logs of the completed pod = %q", text)
	}
	d := pod.DeepCopy()
	zero := int64(0)
	d.DeletionGracePeriodSeconds = &zero
	if err := p.DeletePod(ctx, d); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "pod gone", 10*time.Second, func() bool { pods, _ := p.GetPods(ctx); return len(pods) == 0 })
}

// With shareProcessNamespace the containers of a pod see and signal each
// other's processes; without it (TestPodLifecycle) they do not.
func TestShareProcessNamespace(t *testing.T) {
	p, n := newTestProvider(t)
	ctx := context.Background()
	share := true
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "shared", Namespace: "default", UID: "55555555-aaaa-bbbb-cccc-000000000001"},
		Spec: corev1.PodSpec{ShareProcessNamespace: &share, RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{
			{Name: "a", Image: "busybox", Command: []string{"sleep", "4711"}},
			{Name: "b", Image: "busybox", Command: []string{"sleep", "infinity"}},
		}},
	}
	if err := p.CreatePod(ctx, pod); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		d := pod.DeepCopy()
		zero := int64(0)
		d.DeletionGracePeriodSeconds = &zero
		_ = p.DeletePod(ctx, d)
		waitFor(t, "pod gone", 10*time.Second, func() bool { pods, _ := p.GetPods(ctx); return len(pods) == 0 })
	})
	waitFor(t, "pod Ready", 10*time.Second, func() bool { return podReady(n.last(pod.UID)) })
	a := &testAttach{}
	if err := p.RunInContainer(ctx, "default", "shared", "b", []string{"ps", "-e", "-o", "pid,args"}, a); err != nil {
		t.Fatalf("exec: %v", err)
	}
	if out := a.stdout.String(); !strings.Contains(out, "sleep 4711") || !strings.Contains(out, "pod-init") || strings.Contains(out, "container-init") {
		t.Fatalf("b does not see a's sleep under pod-init:\n%s", out)
	}
	if err := p.RunInContainer(ctx, "default", "shared", "b", []string{"pkill", "-f", "sleep 4711"}, &testAttach{}); err != nil {
		t.Fatalf("b could not signal a's sleep: %v", err)
	}
	waitFor(t, "container a terminated by b's SIGTERM", 5*time.Second, func() bool {
		for _, cs := range n.last(pod.UID).Status.ContainerStatuses {
			if cs.Name == "a" {
				return cs.State.Terminated != nil && cs.State.Terminated.ExitCode == 143
			}
		}
		return false
	})
}
