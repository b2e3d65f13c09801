package manual

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fw "github.com/arl-infra/arl/e2e/framework"
	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
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
	fw.WaitOperatorAvailable(t, 2*time.Minute)
}

// burst creates a pool of n and n sandboxes at once (killing the operator
// right after, when restart is set), then checks that every sandbox got a
// distinct pod and that each pod is bound to its sandbox.
func burst(t *testing.T, name string, n int, restart bool) {
	pool := fw.Pool(name+"-pool", int32(n))
	pool.Spec.SidecarAuth = arlv1.SidecarAuthNone
	fw.Recreate(t, pool)
	defer fw.DeleteNoWait(t, pool)
	fw.WaitPoolReady(t, pool.Name, int32(n), 4*time.Minute)
	create := func(from, to int) {
		for i := from; i < to; i++ {
			sb := fw.Sandbox(fmt.Sprintf("%s-%d", name, i), pool.Name)
			sb.Labels = map[string]string{"burst": name}
			fw.Create(t, sb)
		}
	}
	if restart {
		// The first half races the kill; the second half waits for the
		// next operator, which finds the first half's pods taken.
		var killed sync.WaitGroup
		killed.Go(func() { fw.KillOperator(t, true) })
		create(0, n/2)
		killed.Wait()
		create(n/2, n)
	} else {
		create(0, n)
	}
	defer fw.DeleteLabelled(t, &arlv1.Sandbox{}, "burst", name)
	sandboxes := &arlv1.SandboxList{}
	fw.Until(t, 3*time.Minute, fmt.Sprintf("%d sandboxes Ready", n), func(c context.Context) (bool, string, error) {
		if err := fw.Client().List(c, sandboxes, client.InNamespace(fw.Namespace), client.MatchingLabels{"burst": name}); err != nil {
			return false, "", err
		}
		phases := map[arlv1.SandboxPhase]int{}
		for _, sb := range sandboxes.Items {
			phases[sb.Status.Phase]++
		}
		return phases[arlv1.SandboxPhaseReady] == n, fmt.Sprintf("phases %v", phases), nil
	})
	podOf := map[string]string{} // sandbox -> pod
	sandboxOf := map[string]string{}
	for _, sb := range sandboxes.Items {
		pod := sb.Status.PodName
		if other, taken := sandboxOf[pod]; taken {
			t.Errorf("pod %s was given to sandboxes %s and %s", pod, other, sb.Name)
		}
		sandboxOf[pod], podOf[sb.Name] = sb.Name, pod
	}
	if len(sandboxOf) != n {
		t.Errorf("%d distinct pods for %d sandboxes: %v", len(sandboxOf), n, podOf)
	}
	// The status and the bind are written in parallel: the bind lands too.
	fw.Until(t, time.Minute, "every pod labelled and owned by its sandbox", func(c context.Context) (bool, string, error) {
		pods := &corev1.PodList{}
		if err := fw.Client().List(c, pods, client.InNamespace(fw.Namespace),
			client.MatchingLabels{arlv1.LabelPool: pool.Name, arlv1.LabelState: arlv1.PodStateAllocated}); err != nil {
			return false, "", err
		}
		got, bound := 0, []string{}
		for _, pod := range pods.Items {
			owner := "no owner"
			if refs := pod.OwnerReferences; len(refs) > 0 {
				owner = refs[0].Kind + "/" + refs[0].Name
			}
			label := pod.Labels[arlv1.LabelSandbox]
			bound = append(bound, pod.Name+"="+label+"/"+owner)
			if sb := sandboxOf[pod.Name]; sb != "" && label == sb && owner == "Sandbox/"+sb {
				got++
			}
		}
		return got == n, fmt.Sprintf("%d of %d bound (pod=sandbox-label/owner-kind/owner-name): %s", got, n, strings.Join(bound, " ")), nil
	})
}

// The operator killed while tasks run: afterwards no step ran twice and every
// task finishes.
func TestOperatorRestartRunsNoStepTwice(t *testing.T) {
	sb := quickStart(t)
	const n = 6
	names := make([]string, n)
	for i := range n {
		names[i] = fmt.Sprintf("restart-%d", i)
		fw.Delete(t, fw.Named[arlv1.Task](names[i]))
	}
	if _, err := fw.Shell(t.Context(), "kubectl -n default exec "+sb.Status.PodName+" -c executor -- bash -c 'rm -f /workspace/restart-*.count'"); err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		task := fw.Task(name, "my-workspace",
			fw.Command("mark", "bash", "-c", "echo run >> /workspace/"+name+".count; sleep 2"),
			fw.Command("count", "bash", "-c", "wc -l < /workspace/"+name+".count"))
		task.Spec.Timeout = &metav1.Duration{Duration: time.Minute}
		fw.Create(t, task)
	}
	time.Sleep(700 * time.Millisecond)
	fw.KillOperator(t, false)
	finished := map[string]*arlv1.Task{}
	for _, name := range names {
		finished[name] = fw.WaitTaskFinished(t, name, 2*time.Minute)
	}
	for _, name := range names {
		count, err := fw.Shell(t.Context(), "kubectl exec "+sb.Status.PodName+" -c executor -- bash -c 'cat /workspace/"+name+".count 2>/dev/null | wc -l'")
		if err != nil {
			t.Fatal(err)
		}
		if strings.TrimSpace(count) != "1" {
			t.Errorf("task %s: its first step ran %s times, want exactly once (%s)", name, strings.TrimSpace(count), fw.DescribeTask(finished[name]))
		}
	}
	fw.WaitOperatorAvailable(t, 2*time.Minute)
}
