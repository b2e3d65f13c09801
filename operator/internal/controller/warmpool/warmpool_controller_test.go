package warmpool

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
	"github.com/arl-infra/arl/operator/internal/testenv"
)

const waitFor = 20 * time.Second

func newPool(t *testing.T, replicas int32) (*arlv1.WarmPool, client.Client) {
	t.Helper()
	env := suite.Env(t)
	ns, err := env.Namespace(context.Background(), "wp")
	if err != nil {
		t.Fatal(err)
	}
	pool := manualPool()
	pool.UID, pool.Namespace = "", ns
	pool.Spec.Replicas = ptr.To(replicas)
	if err := env.Client.Create(context.Background(), pool); err != nil {
		t.Fatalf("create pool: %v", err)
	}
	return pool, env.Client
}

func poolPods(t *testing.T, c client.Client, pool *arlv1.WarmPool) []corev1.Pod {
	t.Helper()
	var pods corev1.PodList
	if err := c.List(context.Background(), &pods, client.InNamespace(pool.Namespace),
		client.MatchingLabels{arlv1.LabelPool: pool.Name}); err != nil {
		t.Fatal(err)
	}
	return pods.Items
}

func waitPods(t *testing.T, c client.Client, pool *arlv1.WarmPool, n int) []corev1.Pod {
	t.Helper()
	var pods []corev1.Pod
	testenv.Eventually(t, waitFor, fmt.Sprintf("%d pods", n), func() (bool, error) {
		pods = poolPods(t, c, pool)
		return len(pods) == n, fmt.Errorf("%d pods", len(pods))
	})
	return pods
}

func markAllReady(t *testing.T, c client.Client, pods []corev1.Pod) {
	t.Helper()
	for i := range pods {
		if err := testenv.MarkPodReady(context.Background(), c, &pods[i], fmt.Sprintf("10.244.1.%d", i+2)); err != nil {
			t.Fatal(err)
		}
	}
}

func getPool(t *testing.T, c client.Client, pool *arlv1.WarmPool) *arlv1.WarmPool {
	t.Helper()
	got := &arlv1.WarmPool{}
	if err := c.Get(context.Background(), client.ObjectKeyFromObject(pool), got); err != nil {
		t.Fatal(err)
	}
	return got
}

func TestPoolCreatesPodsWithTokensAndReportsReady(t *testing.T) {
	pool, c := newPool(t, 3)
	pods := waitPods(t, c, pool, 3)
	for _, pod := range pods {
		if pod.Labels[arlv1.LabelState] != arlv1.PodStateIdle || metav1.GetControllerOf(&pod).Name != pool.Name {
			t.Errorf("pod %s labels %v owner %v", pod.Name, pod.Labels, metav1.GetControllerOf(&pod))
		}
		if len(pod.Name) != len(pool.Name)+6 {
			t.Errorf("pod name %q is not <pool>-<5 random>", pod.Name)
		}
		if len(pod.Spec.InitContainers) != 1 || len(pod.Spec.Containers) != 2 || pod.Spec.Containers[1].Name != "sidecar" {
			t.Errorf("pod %s lacks the injected containers: %+v", pod.Name, pod.Spec)
		}
		secret := &corev1.Secret{}
		if err := c.Get(context.Background(), client.ObjectKey{Namespace: pod.Namespace, Name: pod.Name}, secret); err != nil {
			t.Fatalf("token secret of %s: %v", pod.Name, err)
		}
		if len(secret.Data["token"]) != 64 || metav1.GetControllerOf(secret).Name != pool.Name {
			t.Errorf("secret %s: token len %d, owner %v", secret.Name, len(secret.Data["token"]), metav1.GetControllerOf(secret))
		}
		if got := pod.Annotations[arlv1.AnnotationTokenSecretUID]; got != string(secret.UID) || got == "" {
			t.Errorf("pod %s names token secret uid %q, its secret has %q", pod.Name, got, secret.UID)
		}
		if !secret.CreationTimestamp.Time.Add(-time.Second).Before(pod.CreationTimestamp.Time) {
			t.Errorf("secret %s created after its pod", secret.Name)
		}
	}
	testenv.Eventually(t, waitFor, "status with 3 idle, 0 ready", func() (bool, error) {
		st := getPool(t, c, pool).Status
		return st.Replicas == 3 && st.ReadyReplicas == 0 && st.Selector == "arl.infra.io/pool="+pool.Name, fmt.Errorf("%+v", st)
	})

	markAllReady(t, c, pods)
	testenv.Eventually(t, waitFor, "Ready condition", func() (bool, error) {
		got := getPool(t, c, pool)
		cond := meta.FindStatusCondition(got.Status.Conditions, arlv1.WarmPoolConditionReady)
		return got.Status.ReadyReplicas == 3 && cond != nil && cond.Status == metav1.ConditionTrue &&
			cond.Reason == arlv1.WarmPoolReasonPoolReady && got.Status.ObservedGeneration == got.Generation, fmt.Errorf("%+v", got.Status)
	})
	testenv.Consistently(t, time.Second, "exactly 3 pods", func() (bool, error) {
		n := len(poolPods(t, c, pool))
		return n == 3, fmt.Errorf("%d pods", n)
	})
}

func TestPoolWithoutAuthCreatesNoSecrets(t *testing.T) {
	env := suite.Env(t)
	ns, err := env.Namespace(context.Background(), "wp")
	if err != nil {
		t.Fatal(err)
	}
	pool := manualPool()
	pool.UID, pool.Namespace, pool.Spec.SidecarAuth = "", ns, arlv1.SidecarAuthNone
	if err := env.Client.Create(context.Background(), pool); err != nil {
		t.Fatal(err)
	}
	pods := waitPods(t, env.Client, pool, 3)
	var secrets corev1.SecretList
	if err := env.Client.List(context.Background(), &secrets, client.InNamespace(ns), client.HasLabels{arlv1.LabelPool}); err != nil {
		t.Fatal(err)
	}
	if len(secrets.Items) != 0 {
		t.Errorf("sidecarAuth None created %d secrets", len(secrets.Items))
	}
	if env := pods[0].Spec.Containers[1].Env; len(env) != 0 {
		t.Errorf("sidecar env = %+v", env)
	}
}

func TestPoolReplacesDeletedPodAndDropsItsSecret(t *testing.T) {
	pool, c := newPool(t, 2)
	pods := waitPods(t, c, pool, 2)
	victim := pods[0]
	if err := c.Delete(context.Background(), &victim); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, waitFor, "a replacement pod", func() (bool, error) {
		now := poolPods(t, c, pool)
		if len(now) != 2 {
			return false, fmt.Errorf("%d pods", len(now))
		}
		for _, p := range now {
			if p.Name == victim.Name {
				return false, fmt.Errorf("victim still there")
			}
		}
		return true, nil
	})
	testenv.Eventually(t, waitFor, "the victim's secret deleted", func() (bool, error) {
		err := c.Get(context.Background(), client.ObjectKey{Namespace: pool.Namespace, Name: victim.Name}, &corev1.Secret{})
		return apierrors.IsNotFound(err), err
	})
}

func TestPoolReplacesFailedPod(t *testing.T) {
	pool, c := newPool(t, 1)
	pods := waitPods(t, c, pool, 1)
	failedPod := pods[0]
	patch := client.MergeFrom(failedPod.DeepCopy())
	failedPod.Status.Phase = corev1.PodFailed
	if err := c.Status().Patch(context.Background(), &failedPod, patch); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, waitFor, "the failed pod replaced", func() (bool, error) {
		now := poolPods(t, c, pool)
		return len(now) == 1 && now[0].Name != failedPod.Name, fmt.Errorf("%d pods", len(now))
	})
}

func TestTemplateChangeReplacesIdlePodsOnly(t *testing.T) {
	pool, c := newPool(t, 2)
	pods := waitPods(t, c, pool, 2)
	markAllReady(t, c, pods)

	// Take one pod the way the Sandbox controller does.
	taken := pods[0].DeepCopy()
	patch := client.MergeFrom(taken.DeepCopy())
	taken.Labels[arlv1.LabelState] = arlv1.PodStateAllocated
	taken.Labels[arlv1.LabelSandbox] = "someone"
	taken.OwnerReferences = nil
	if err := c.Patch(context.Background(), taken, patch); err != nil {
		t.Fatal(err)
	}
	// The pool refills to 2 idle pods.
	testenv.Eventually(t, waitFor, "refill after allocation", func() (bool, error) {
		st := getPool(t, c, pool).Status
		return st.Replicas == 2 && st.AllocatedReplicas == 1 && len(poolPods(t, c, pool)) == 3, fmt.Errorf("%+v", st)
	})
	oldHash := taken.Annotations[arlv1.AnnotationTemplateHash]

	current := getPool(t, c, pool)
	orig := current.DeepCopy()
	current.Spec.Template.Spec.Containers[0].Image = "python:3.12-slim"
	if err := c.Patch(context.Background(), current, client.MergeFrom(orig)); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, waitFor, "idle pods rebuilt from the new template", func() (bool, error) {
		idle, allocatedSeen := 0, false
		for _, p := range poolPods(t, c, pool) {
			if p.Name == taken.Name {
				allocatedSeen = p.Annotations[arlv1.AnnotationTemplateHash] == oldHash && p.DeletionTimestamp == nil
				continue
			}
			if p.Annotations[arlv1.AnnotationTemplateHash] == oldHash {
				return false, fmt.Errorf("idle pod %s still on the old template", p.Name)
			}
			if p.Spec.Containers[0].Image != "python:3.12-slim" {
				return false, fmt.Errorf("pod %s image %s", p.Name, p.Spec.Containers[0].Image)
			}
			idle++
		}
		return idle == 2 && allocatedSeen, fmt.Errorf("idle %d, allocated kept %v", idle, allocatedSeen)
	})
}

func TestPoolScalesDown(t *testing.T) {
	pool, c := newPool(t, 4)
	waitPods(t, c, pool, 4)
	setReplicas(t, c, pool, 1)
	waitPods(t, c, pool, 1)
	testenv.Eventually(t, waitFor, "status replicas 1", func() (bool, error) {
		st := getPool(t, c, pool).Status
		return st.Replicas == 1, fmt.Errorf("%+v", st)
	})

	// The deletions were observed, so scaling up again is not held back by
	// expectations (their timeout is 30s).
	setReplicas(t, c, pool, 3)
	testenv.Eventually(t, 5*time.Second, "3 pods again", func() (bool, error) {
		n := len(poolPods(t, c, pool))
		return n == 3, fmt.Errorf("%d pods", n)
	})
}

// A pod promised to a sandbox (in the operator's claims, or named by a
// sandbox's status after a restart) is not the pool's to delete while its
// bind is in flight: a scale-down keeps it and counts it as allocated.
func TestScaleDownKeepsPodsPromisedToSandboxes(t *testing.T) {
	pool, c := newPool(t, 4)
	pods := waitPods(t, c, pool, 4)
	markAllReady(t, c, pods)
	sb := &arlv1.Sandbox{ObjectMeta: metav1.ObjectMeta{Name: "sb", Namespace: pool.Namespace}, Spec: arlv1.SandboxSpec{PoolRef: pool.Name}}
	if err := c.Create(context.Background(), sb); err != nil {
		t.Fatal(err)
	}
	sb.Status = arlv1.SandboxStatus{Phase: arlv1.SandboxPhaseReady, PodName: pods[0].Name}
	if err := c.Status().Update(context.Background(), sb); err != nil {
		t.Fatal(err)
	}
	if !suiteClaims.ForSandbox(pods[1].UID, "another-sandbox") {
		t.Fatal("claim refused")
	}
	defer suiteClaims.Release(pods[1].UID)

	setReplicas(t, c, pool, 1)
	// Two promised pods plus the one idle pod the pool wants.
	testenv.Eventually(t, waitFor, "3 pods left", func() (bool, error) {
		n := len(poolPods(t, c, pool))
		return n == 3, fmt.Errorf("%d pods", n)
	})
	left := map[string]bool{}
	for _, p := range poolPods(t, c, pool) {
		if p.DeletionTimestamp == nil {
			left[p.Name] = true
		}
	}
	for _, kept := range []string{pods[0].Name, pods[1].Name} {
		if !left[kept] {
			t.Errorf("pod %s, promised to a sandbox, was deleted; left: %v", kept, left)
		}
	}
	testenv.Eventually(t, waitFor, "status counts the promised pods as allocated", func() (bool, error) {
		st := getPool(t, c, pool).Status
		return st.AllocatedReplicas == 2 && st.ReadyReplicas == 1, fmt.Errorf("%+v", st)
	})
}

func TestDeletingThePoolDeletesAllocatedPods(t *testing.T) {
	pool, c := newPool(t, 2)
	pods := waitPods(t, c, pool, 2)
	taken := pods[0].DeepCopy()
	patch := client.MergeFrom(taken.DeepCopy())
	taken.Labels[arlv1.LabelState] = arlv1.PodStateAllocated
	taken.Labels[arlv1.LabelSandbox] = "someone"
	taken.OwnerReferences = nil
	if err := c.Patch(context.Background(), taken, patch); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, waitFor, "the pool to see the allocation", func() (bool, error) {
		st := getPool(t, c, pool).Status
		return st.AllocatedReplicas == 1, fmt.Errorf("%+v", st)
	})
	if err := c.Delete(context.Background(), getPool(t, c, pool)); err != nil {
		t.Fatal(err)
	}
	// envtest runs no garbage collector, so only the allocated pod (deleted
	// by the controller) is expected to go.
	testenv.Eventually(t, waitFor, "the allocated pod deleted", func() (bool, error) {
		err := c.Get(context.Background(), client.ObjectKeyFromObject(taken), &corev1.Pod{})
		return apierrors.IsNotFound(err), err
	})
}

// setReplicas changes spec.replicas with a merge patch, which the
// controller's concurrent status writes cannot make conflict.
func setReplicas(t *testing.T, c client.Client, pool *arlv1.WarmPool, n int32) {
	t.Helper()
	current := getPool(t, c, pool)
	orig := current.DeepCopy()
	current.Spec.Replicas = ptr.To(n)
	if err := c.Patch(context.Background(), current, client.MergeFrom(orig)); err != nil {
		t.Fatal(err)
	}
}

// A pod whose node reports ErrImagePull turns the pool's Ready condition
// to ImagePullFailed with the kubelet's message, and the pool emits one
// Warning event ImagePullFailed saying the same.
func TestImagePullFailureSurfacesInStatusAndEvent(t *testing.T) {
	pool, c := newPool(t, 1)
	pod := waitPods(t, c, pool, 1)[0]
	msg := `failed to pull and unpack image "docker.io/library/python:3.9-slim": not found`
	patch := client.MergeFrom(pod.DeepCopy())
	pod.Status.Phase = corev1.PodPending
	pod.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "executor", Image: "python:3.9-slim",
		State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ErrImagePull", Message: msg}}}}
	if err := c.Status().Patch(context.Background(), &pod, patch); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, waitFor, "Ready=False ImagePullFailed", func() (bool, error) {
		cond := meta.FindStatusCondition(getPool(t, c, pool).Status.Conditions, arlv1.WarmPoolConditionReady)
		return cond != nil && cond.Reason == arlv1.WarmPoolReasonImagePullFailed && cond.Status == metav1.ConditionFalse &&
			strings.Contains(cond.Message, msg) && strings.Contains(cond.Message, "pod "+pod.Name), fmt.Errorf("%+v", cond)
	})
	testenv.Eventually(t, waitFor, "a Warning event ImagePullFailed", func() (bool, error) {
		var list eventsv1.EventList
		if err := c.List(context.Background(), &list, client.InNamespace(pool.Namespace)); err != nil {
			return false, err
		}
		for _, e := range list.Items {
			if e.Reason == arlv1.EventReasonImagePullFailed && e.Type == corev1.EventTypeWarning && e.Regarding.Name == pool.Name && strings.Contains(e.Note, msg) {
				return true, nil
			}
		}
		return false, fmt.Errorf("%d events, none ImagePullFailed", len(list.Items))
	})
	testenv.Consistently(t, time.Second, "no pod added for the failing one", func() (bool, error) {
		n := len(poolPods(t, c, pool))
		return n == 1, fmt.Errorf("%d pods", n)
	})
}
