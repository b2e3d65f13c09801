package sandbox

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
	"github.com/arl-infra/arl/operator/internal/testenv"
)

const waitFor = 30 * time.Second

func namespace(t *testing.T) (string, client.Client) {
	t.Helper()
	env := suite.Env(t)
	ns, err := env.Namespace(context.Background(), "sb")
	if err != nil {
		t.Fatal(err)
	}
	return ns, env.Client
}

func createPool(t *testing.T, c client.Client, ns, name string, replicas int32) *arlv1.WarmPool {
	t.Helper()
	pool := &arlv1.WarmPool{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: arlv1.WarmPoolSpec{Replicas: ptr.To(replicas), Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "executor", Image: "python:3.9-slim", Command: []string{"sleep", "infinity"}}},
		}}},
	}
	if err := c.Create(context.Background(), pool); err != nil {
		t.Fatalf("create pool: %v", err)
	}
	return pool
}

func createSandbox(t *testing.T, c client.Client, ns, name, pool string) *arlv1.Sandbox {
	t.Helper()
	sb := &arlv1.Sandbox{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: arlv1.SandboxSpec{PoolRef: pool, KeepAlive: true}}
	if err := c.Create(context.Background(), sb); err != nil {
		t.Errorf("create sandbox %s: %v", name, err)
	}
	return sb
}

func pods(t *testing.T, c client.Client, ns, pool string, state string) []corev1.Pod {
	t.Helper()
	var list corev1.PodList
	labels := client.MatchingLabels{arlv1.LabelPool: pool}
	if state != "" {
		labels[arlv1.LabelState] = state
	}
	if err := c.List(context.Background(), &list, client.InNamespace(ns), labels); err != nil {
		t.Fatal(err)
	}
	return list.Items
}

// readyIdlePods waits for n idle pods of pool and marks them Ready.
func readyIdlePods(t *testing.T, c client.Client, ns, pool string, n int) []corev1.Pod {
	t.Helper()
	var idle []corev1.Pod
	testenv.Eventually(t, waitFor, fmt.Sprintf("%d idle pods", n), func() (bool, error) {
		idle = pods(t, c, ns, pool, arlv1.PodStateIdle)
		return len(idle) >= n, fmt.Errorf("%d idle pods", len(idle))
	})
	for i := range idle[:n] {
		if err := testenv.MarkPodReady(context.Background(), c, &idle[i], fmt.Sprintf("10.244.%d.%d", i/250, i%250+2)); err != nil {
			t.Fatal(err)
		}
	}
	return idle[:n]
}

func getSandbox(t *testing.T, c client.Client, ns, name string) *arlv1.Sandbox {
	t.Helper()
	sb := &arlv1.Sandbox{}
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, sb); err != nil {
		t.Fatal(err)
	}
	return sb
}

func waitPhase(t *testing.T, c client.Client, ns, name string, phase arlv1.SandboxPhase, reason string) *arlv1.Sandbox {
	t.Helper()
	var sb *arlv1.Sandbox
	testenv.Eventually(t, waitFor, fmt.Sprintf("sandbox %s %s/%s", name, phase, reason), func() (bool, error) {
		sb = getSandbox(t, c, ns, name)
		cond := meta.FindStatusCondition(sb.Status.Conditions, arlv1.SandboxConditionReady)
		return sb.Status.Phase == phase && cond != nil && cond.Reason == reason, fmt.Errorf("status %+v", sb.Status)
	})
	return sb
}

func TestSandboxTakesAReadyPodAndThePoolRefills(t *testing.T) {
	ns, c := namespace(t)
	createPool(t, c, ns, "python-pool", 1)
	readyIdlePods(t, c, ns, "python-pool", 1)
	createSandbox(t, c, ns, "my-workspace", "python-pool")

	sb := waitPhase(t, c, ns, "my-workspace", arlv1.SandboxPhaseReady, arlv1.SandboxReasonSidecarReady)
	if sb.Status.PodIP == "" || sb.Status.WorkDir != "/workspace" || sb.Status.AllocationTime == nil {
		t.Errorf("status = %+v", sb.Status)
	}
	pod := &corev1.Pod{}
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: sb.Status.PodName}, pod); err != nil {
		t.Fatal(err)
	}
	if pod.Labels[arlv1.LabelState] != arlv1.PodStateAllocated || pod.Labels[arlv1.LabelSandbox] != "my-workspace" {
		t.Errorf("pod labels = %v", pod.Labels)
	}
	if owner := metav1.GetControllerOf(pod); owner == nil || owner.Kind != "Sandbox" || owner.UID != sb.UID || len(pod.OwnerReferences) != 1 {
		t.Errorf("pod owners = %+v (deleting the sandbox must delete the pod)", pod.OwnerReferences)
	}
	testenv.Eventually(t, waitFor, "the pool to refill", func() (bool, error) {
		n := len(pods(t, c, ns, "python-pool", arlv1.PodStateIdle))
		return n == 1, fmt.Errorf("%d idle pods", n)
	})
}

// While they allocate, a "node" keeps rewriting the pods' status, as a real
// node does while pods churn: binds must neither fail because of it nor ever
// hand one pod to two sandboxes.
func TestFiftySandboxesGetFiftyDistinctPods(t *testing.T) {
	const n = 50
	ns, c := namespace(t)
	createPool(t, c, ns, "big-pool", n)
	readyIdlePods(t, c, ns, "big-pool", n)
	testenv.Eventually(t, waitFor, "50 ready replicas", func() (bool, error) {
		pool := &arlv1.WarmPool{}
		err := c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "big-pool"}, pool)
		return err == nil && pool.Status.ReadyReplicas == n, fmt.Errorf("%+v %v", pool.Status, err)
	})

	conflictsBefore := testutil.ToFloat64(allocationConflicts)
	churnCtx, stopChurn := context.WithCancel(context.Background())
	defer stopChurn()
	churned := make(chan int)
	go func() { churned <- churnPodStatus(churnCtx, c, ns, "big-pool") }()

	start := time.Now()
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			createSandbox(t, c, ns, fmt.Sprintf("sb-%02d", i), "big-pool")
		}()
	}
	wg.Wait()

	byPod := map[string]string{}
	testenv.Eventually(t, waitFor, "50 Ready sandboxes", func() (bool, error) {
		var list arlv1.SandboxList
		if err := c.List(context.Background(), &list, client.InNamespace(ns)); err != nil {
			return false, err
		}
		ready := 0
		for _, sb := range list.Items {
			if sb.Status.Phase == arlv1.SandboxPhaseReady {
				ready++
			}
		}
		if ready < n {
			return false, fmt.Errorf("%d/%d ready", ready, n)
		}
		clear(byPod)
		for _, sb := range list.Items {
			if other, dup := byPod[sb.Status.PodName]; dup {
				t.Fatalf("pod %s given to both %s and %s", sb.Status.PodName, other, sb.Name)
			}
			byPod[sb.Status.PodName] = sb.Name
		}
		return true, nil
	})
	t.Logf("50 sandboxes Ready %s after creation started", time.Since(start).Round(time.Millisecond))
	stopChurn()
	writes := <-churned
	if writes == 0 {
		t.Error("no pod status was rewritten during the allocation")
	}
	t.Logf("%d pod status writes meanwhile; %.0f binds lost to a concurrent writer", writes, testutil.ToFloat64(allocationConflicts)-conflictsBefore)
	if len(byPod) != n {
		t.Fatalf("%d distinct pods for %d sandboxes", len(byPod), n)
	}
	for podName, sbName := range byPod {
		pod := &corev1.Pod{}
		if err := c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: podName}, pod); err != nil {
			t.Fatal(err)
		}
		if pod.Labels[arlv1.LabelSandbox] != sbName {
			t.Errorf("pod %s labelled for %q, recorded by %s", podName, pod.Labels[arlv1.LabelSandbox], sbName)
		}
	}
}

// churnPodStatus rewrites the status message of the pool's pods until ctx
// ends, and returns how many writes succeeded.
func churnPodStatus(ctx context.Context, c client.Client, ns, pool string) int {
	writes := 0
	for round := 0; ctx.Err() == nil; round++ {
		var list corev1.PodList
		if err := c.List(ctx, &list, client.InNamespace(ns), client.MatchingLabels{arlv1.LabelPool: pool}); err != nil {
			continue
		}
		for i := range list.Items {
			pod := &list.Items[i]
			patch := client.MergeFrom(pod.DeepCopy())
			pod.Status.Message = fmt.Sprintf("probe round %d", round)
			if c.Status().Patch(ctx, pod, patch) == nil {
				writes++
			}
		}
	}
	return writes
}

func TestSandboxWaitsForPoolThenTakesTheFirstReadyPod(t *testing.T) {
	ns, c := namespace(t)
	createPool(t, c, ns, "slow-pool", 1)
	testenv.Eventually(t, waitFor, "an idle pod (not Ready)", func() (bool, error) {
		return len(pods(t, c, ns, "slow-pool", arlv1.PodStateIdle)) == 1, nil
	})
	createSandbox(t, c, ns, "waiting", "slow-pool")
	waitPhase(t, c, ns, "waiting", arlv1.SandboxPhasePending, arlv1.SandboxReasonWaitingForPool)

	ready := readyIdlePods(t, c, ns, "slow-pool", 1)
	readyAt := time.Now()
	sb := waitPhase(t, c, ns, "waiting", arlv1.SandboxPhaseReady, arlv1.SandboxReasonSidecarReady)
	t.Logf("sandbox Ready %s after its pod became Ready", time.Since(readyAt).Round(time.Millisecond))
	if sb.Status.PodName != ready[0].Name {
		t.Errorf("took %s, want %s", sb.Status.PodName, ready[0].Name)
	}
}

func TestSandboxWaitsForMissingPool(t *testing.T) {
	ns, c := namespace(t)
	createSandbox(t, c, ns, "early", "later-pool")
	waitPhase(t, c, ns, "early", arlv1.SandboxPhasePending, arlv1.SandboxReasonPoolNotFound)

	createPool(t, c, ns, "later-pool", 1)
	waitPhase(t, c, ns, "early", arlv1.SandboxPhasePending, arlv1.SandboxReasonWaitingForPool)
	readyIdlePods(t, c, ns, "later-pool", 1)
	waitPhase(t, c, ns, "early", arlv1.SandboxPhaseReady, arlv1.SandboxReasonSidecarReady)
}

func TestSandboxFailsWhenItsPodIsDeleted(t *testing.T) {
	ns, c := namespace(t)
	createPool(t, c, ns, "pool", 1)
	readyIdlePods(t, c, ns, "pool", 1)
	createSandbox(t, c, ns, "fragile", "pool")
	sb := waitPhase(t, c, ns, "fragile", arlv1.SandboxPhaseReady, arlv1.SandboxReasonSidecarReady)

	pod := &corev1.Pod{}
	pod.Namespace, pod.Name = ns, sb.Status.PodName
	if err := c.Delete(context.Background(), pod, client.GracePeriodSeconds(0)); err != nil {
		t.Fatal(err)
	}
	waitPhase(t, c, ns, "fragile", arlv1.SandboxPhaseFailed, arlv1.SandboxReasonPodLost)
}

func TestSandboxRecordsLastTaskTime(t *testing.T) {
	ns, c := namespace(t)
	createPool(t, c, ns, "pool", 1)
	readyIdlePods(t, c, ns, "pool", 1)
	createSandbox(t, c, ns, "busy", "pool")
	waitPhase(t, c, ns, "busy", arlv1.SandboxPhaseReady, arlv1.SandboxReasonSidecarReady)

	task := &arlv1.Task{
		ObjectMeta: metav1.ObjectMeta{Name: "t1", Namespace: ns},
		Spec: arlv1.TaskSpec{SandboxRef: "busy", Steps: []arlv1.TaskStep{
			{Name: "run", Type: arlv1.StepTypeCommand, Command: []string{"true"}},
		}},
	}
	if err := c.Create(context.Background(), task); err != nil {
		t.Fatal(err)
	}
	done := metav1.NewTime(time.Now().Add(time.Minute).Truncate(time.Second))
	patch := client.MergeFrom(task.DeepCopy())
	task.Status.State = arlv1.TaskStateSucceeded
	task.Status.StartTime = ptr.To(metav1.NewTime(done.Add(-time.Second)))
	task.Status.CompletionTime = &done
	if err := c.Status().Patch(context.Background(), task, patch); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, waitFor, "lastTaskTime from the task", func() (bool, error) {
		sb := getSandbox(t, c, ns, "busy")
		return sb.Status.LastTaskTime != nil && sb.Status.LastTaskTime.Equal(&done), fmt.Errorf("%v", sb.Status.LastTaskTime)
	})
}
