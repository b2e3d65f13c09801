//go:build e2elocal

package e2elocal

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
)

// marker is set in the test pods' environment, so the test can find their
// processes on the host and prove they are gone after down.
var marker = "ARL_E2ELOCAL_MARKER=" + rand.String(12)

// podUIDs are the pods the tests created, whose network namespaces must be
// gone after down.
var podUIDs []string

// TestLocalCluster walks one cluster through its life: cold up, use, warm
// restart, down. Steps run in order; once up fails, nothing else can run.
func TestLocalCluster(t *testing.T) {
	if !t.Run("UpFromScratch", testUpFromScratch) {
		t.FailNow()
	}
	t.Run("ControlPlaneServes", testControlPlaneServes)
	t.Run("KubectlVersionParses", testKubectlVersion)
	t.Run("SecondUpSaysRunning", testSecondUp)
	t.Run("StatusShowsComponents", testStatus)
	t.Run("NodeReady", testNodeReady)
	t.Run("PodRunsAsProcess", testPodRunning)
	t.Run("LogsExecPortForward", testKubeletAPI)
	t.Run("DownOfAStaleStateDirSparesTheRunningCluster", testStaleDown)
	t.Run("GarbageCollectorDeletesOwnedPod", testGarbageCollection)
	t.Run("WarmRestartUnder10s", testWarmRestart)
	t.Run("DownLeavesNothing", testDownLeavesNothing)
}

func testUpFromScratch(t *testing.T) {
	out, took := cluster.Arl(t, 30*time.Minute, "up", "--no-operator")
	t.Logf("cold up (fresh state dir; build %s) took %s:\n%s", buildNote(out), took.Round(100*time.Millisecond), out)
	if !strings.Contains(out, "local cluster ready") {
		t.Fatalf("up did not report readiness:\n%s", out)
	}
}

func buildNote(upOutput string) string {
	if strings.Contains(upOutput, "build arl-kube: built") {
		return "included compiling arl-kube"
	}
	return "arl-kube reused"
}

func testControlPlaneServes(t *testing.T) {
	cs := newClientset(t)
	body, err := cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(t.Context())
	if err != nil || strings.TrimSpace(string(body)) != "ok" {
		t.Fatalf("/readyz = %q, %v", body, err)
	}
	out := cluster.Kubectl(t, "get", "namespaces", "-o", "name")
	for _, ns := range []string{"namespace/default", "namespace/kube-system"} {
		if !strings.Contains(out, ns) {
			t.Errorf("kubectl get namespaces lacks %s:\n%s", ns, out)
		}
	}
	// The root CA publisher and token controller ran: pods get their CA.
	eventually(t, 30*time.Second, "kube-root-ca.crt in default", func(ctx context.Context) (bool, error) {
		_, err := cs.CoreV1().ConfigMaps("default").Get(ctx, "kube-root-ca.crt", metav1.GetOptions{})
		return err == nil, nil
	})
}

func testKubectlVersion(t *testing.T) {
	out := cluster.Kubectl(t, "version", "-o", "json")
	var v struct {
		ClientVersion struct{ GitVersion, Major, Minor string } `json:"clientVersion"`
		ServerVersion struct{ GitVersion, Major, Minor string } `json:"serverVersion"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("kubectl version -o json does not parse: %v\n%s", err, out)
	}
	if v.ClientVersion.GitVersion != "v1.37.2" || v.ServerVersion.GitVersion != "v1.37.2" || v.ServerVersion.Minor != "37" {
		t.Fatalf("kubectl version: client %+v server %+v, want v1.37.2 both", v.ClientVersion, v.ServerVersion)
	}
}

func testSecondUp(t *testing.T) {
	before := recordedPIDs(t)
	out, took := cluster.Arl(t, time.Minute, "up", "--no-operator")
	if !strings.Contains(out, "already running") {
		t.Fatalf("second up did not say the cluster runs:\n%s", out)
	}
	if after := recordedPIDs(t); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("second up changed the processes: before %v after %v", before, after)
	}
	t.Logf("second up returned in %s", took.Round(time.Millisecond))
}

func testStatus(t *testing.T) {
	out, _ := cluster.Arl(t, time.Minute, "status")
	for _, comp := range []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "arl-node"} {
		if !strings.Contains(out, comp) {
			t.Errorf("status lacks %s:\n%s", comp, out)
		}
	}
	t.Logf("status:\n%s", out)
}

func testNodeReady(t *testing.T) {
	requireNode(t)
	out := cluster.Kubectl(t, "get", "nodes", "-o", "jsonpath={.items[*].metadata.name} {.items[*].status.conditions[?(@.type==\"Ready\")].status}")
	if strings.TrimSpace(out) != "arl-node True" {
		t.Fatalf("kubectl get nodes: %q, want arl-node Ready=True", out)
	}
}

func testPodRunning(t *testing.T) {
	requireNode(t)
	cs := newClientset(t)
	name, value, _ := strings.Cut(marker, "=")
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "sleeper", Namespace: "default"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "main", Image: "busybox", Command: []string{"sleep", "infinity"},
			Env: []corev1.EnvVar{{Name: name, Value: value}},
		}}},
	}
	created := time.Now()
	got, err := cs.CoreV1().Pods("default").Create(t.Context(), pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create pod: %v", err)
	}
	podUIDs = append(podUIDs, string(got.UID))
	eventually(t, 30*time.Second, "pod sleeper Running", func(ctx context.Context) (bool, error) {
		p, err := cs.CoreV1().Pods("default").Get(ctx, "sleeper", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		return p.Status.Phase == corev1.PodRunning, nil
	})
	t.Logf("pod Running %s after create", time.Since(created).Round(time.Millisecond))
	if pids := processesWithEnv(marker); len(pids) == 0 {
		t.Fatalf("pod is Running but no host process carries its environment marker")
	}
}

func testGarbageCollection(t *testing.T) {
	cs := newClientset(t)
	core := cs.CoreV1()
	ctx := t.Context()
	owner, err := core.ConfigMaps("default").Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "gc-owner", Namespace: "default"},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create owner: %v", err)
	}
	child, err := core.Pods("default").Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: "gc-child", Namespace: "default",
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "ConfigMap", Name: owner.Name, UID: owner.UID}},
		},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: "busybox", Command: []string{"sleep", "infinity"}}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create owned pod: %v", err)
	}
	podUIDs = append(podUIDs, string(child.UID))
	if nodeBuilt() {
		// A running pod: collection goes through the node's graceful stop.
		eventually(t, 30*time.Second, "gc-child Running", func(ctx context.Context) (bool, error) {
			p, err := core.Pods("default").Get(ctx, "gc-child", metav1.GetOptions{})
			return err == nil && p.Status.Phase == corev1.PodRunning, err
		})
	}
	if err := core.ConfigMaps("default").Delete(ctx, owner.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatalf("delete owner: %v", err)
	}
	deleted := time.Now()
	eventually(t, 60*time.Second, "garbage collection of gc-child", func(ctx context.Context) (bool, error) {
		_, err := core.Pods("default").Get(ctx, "gc-child", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, err
	})
	t.Logf("owned pod gone %s after its owner was deleted", time.Since(deleted).Round(time.Millisecond))
}

// testWarmRestart times up with the binaries built and the state kept.
// Other people's edits between the two ups would rebuild a binary and time
// the compiler, so the build runs first, untimed.
func testWarmRestart(t *testing.T) {
	out, took := cluster.Arl(t, 2*time.Minute, "down")
	t.Logf("down took %s:\n%s", took.Round(time.Millisecond), out)
	out, took = cluster.Arl(t, 10*time.Minute, "build")
	t.Logf("build before the warm start took %s:\n%s", took.Round(time.Millisecond), out)
	out, took = cluster.Arl(t, 2*time.Minute, "up", "--no-operator")
	t.Logf("warm up took %s:\n%s", took.Round(time.Millisecond), out)
	if !strings.Contains(out, "local cluster ready") {
		t.Fatalf("warm up did not report readiness:\n%s", out)
	}
	if took > 10*time.Second {
		t.Errorf("warm up took %s, want < 10s", took)
	}
}

func testDownLeavesNothing(t *testing.T) {
	pids := recordedPIDs(t)
	if len(pids) == 0 {
		t.Fatal("no pid files before down: the cluster is not running")
	}
	out, took := cluster.Arl(t, 2*time.Minute, "down")
	t.Logf("down took %s:\n%s", took.Round(time.Millisecond), out)
	for name, pid := range pids {
		if processAlive(pid) {
			t.Errorf("%s (pid %d) still runs after down", name, pid)
		}
	}
	if left := processesWithEnv(marker); len(left) > 0 {
		t.Errorf("pod processes %v still run after down", left)
	}
	if ns := leftNetns(t, podUIDs); len(ns) > 0 {
		t.Errorf("network namespaces left after down: %v", ns)
	}
	if bridgeExists() {
		t.Errorf("bridge %s left after down", bridge)
	}
	if m := mountsUnder(t, cluster.StateDir); len(m) > 0 {
		t.Errorf("mounts left under %s after down: %v", cluster.StateDir, m)
	}
	if left := recordedPIDs(t); len(left) > 0 {
		t.Errorf("pid files left after down: %v", left)
	}
}

// testStaleDown runs down on another state directory of the same instance
// (one that once ran a node): the running cluster's bridge and pods stay.
func testStaleDown(t *testing.T) {
	requireNode(t)
	stale := t.TempDir()
	if err := os.MkdirAll(filepath.Join(stale, "node"), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(cluster.ArlLocal, "--repo="+cluster.Repo, "--state-dir="+stale, fmt.Sprintf("--instance=%d", instance), "down")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("down on a stale state dir: %v\n%s", err, out)
	}
	if !bridgeExists() {
		t.Fatalf("down on a stale state dir removed the running cluster's bridge %s:\n%s", bridge, out)
	}
	if pids := processesWithEnv(marker); len(pids) == 0 {
		t.Fatalf("down on a stale state dir stopped the running cluster's pods:\n%s", out)
	}
}
