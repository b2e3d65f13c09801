package warmpool

import (
	"errors"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
	"github.com/arl-infra/arl/operator/internal/poolpod"
)

type podOpt func(*corev1.Pod)

func ready(p *corev1.Pod) {
	p.Status.Phase = corev1.PodRunning
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
}
func failed(p *corev1.Pod) { p.Status.Phase = corev1.PodFailed }
func allocated(p *corev1.Pod) {
	p.Labels[arlv1.LabelState] = arlv1.PodStateAllocated
	p.OwnerReferences = nil
}
func stale(p *corev1.Pod)    { p.Annotations[arlv1.AnnotationTemplateHash] = "old" }
func deleting(p *corev1.Pod) { p.DeletionTimestamp = ptr.To(metav1.Now()) }
func foreign(p *corev1.Pod)  { p.OwnerReferences[0].UID = "someone-else" }
func age(d time.Duration) podOpt {
	return func(p *corev1.Pod) { p.CreationTimestamp = metav1.NewTime(time.Unix(1_000_000, 0).Add(-d)) }
}

func testPod(pool *arlv1.WarmPool, name string, opts ...podOpt) corev1.Pod {
	p, _ := poolpod.BuildPod(pool, name, "h", testPods)
	p.CreationTimestamp = metav1.NewTime(time.Unix(1_000_000, 0))
	for _, o := range opts {
		o(p)
	}
	return *p
}

func names(pods []*corev1.Pod) []string {
	var out []string
	for _, p := range pods {
		out = append(out, p.Name)
	}
	return out
}

func TestClassifyAndPlan(t *testing.T) {
	pool := manualPool()
	tests := []struct {
		name       string
		pods       []corev1.Pod
		desired    int32
		wantCreate int
		wantDelete []string
		wantReady  int32
		wantAlloc  int32
	}{
		{name: "empty pool creates all", desired: 3, wantCreate: 3},
		{
			name:    "allocated pods do not count: the pool refills",
			pods:    []corev1.Pod{testPod(pool, "a", ready), testPod(pool, "b", ready, allocated), testPod(pool, "c", ready)},
			desired: 3, wantCreate: 1, wantReady: 2, wantAlloc: 1,
		},
		{
			name:    "starting pods count, so no over-creation",
			pods:    []corev1.Pod{testPod(pool, "a"), testPod(pool, "b"), testPod(pool, "c", ready)},
			desired: 3, wantReady: 1,
		},
		{
			name:    "failed idle pods are replaced",
			pods:    []corev1.Pod{testPod(pool, "a", ready), testPod(pool, "b", failed)},
			desired: 2, wantCreate: 1, wantDelete: []string{"b"}, wantReady: 1,
		},
		{
			name:    "stale idle pods are replaced, allocated stale ones kept",
			pods:    []corev1.Pod{testPod(pool, "a", ready, stale), testPod(pool, "b", ready, stale, allocated)},
			desired: 1, wantCreate: 1, wantDelete: []string{"a"}, wantAlloc: 1,
		},
		{
			name:    "pods being deleted are ignored",
			pods:    []corev1.Pod{testPod(pool, "a", ready, deleting)},
			desired: 1, wantCreate: 1,
		},
		{
			name:    "idle pods the pool does not control are ignored",
			pods:    []corev1.Pod{testPod(pool, "a", ready, foreign)},
			desired: 1, wantCreate: 1,
		},
		{
			name: "scale down deletes starting pods first, then the youngest Ready",
			pods: []corev1.Pod{
				testPod(pool, "old", ready, age(time.Hour)), testPod(pool, "young", ready, age(time.Minute)),
				testPod(pool, "starting"),
			},
			desired: 1, wantDelete: []string{"starting", "young"}, wantReady: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sets := classifyPods(pool, tt.pods, "h", nil)
			plan := planScale(sets, tt.desired)
			if plan.create != tt.wantCreate {
				t.Errorf("create = %d, want %d", plan.create, tt.wantCreate)
			}
			if got := names(plan.delete); len(got) != len(tt.wantDelete) || (len(got) > 0 && !equalStrings(got, tt.wantDelete)) {
				t.Errorf("delete = %v, want %v", got, tt.wantDelete)
			}
			st := computeStatus(pool, sets, nil, false)
			if st.ReadyReplicas != tt.wantReady || st.AllocatedReplicas != tt.wantAlloc {
				t.Errorf("ready/allocated = %d/%d, want %d/%d", st.ReadyReplicas, st.AllocatedReplicas, tt.wantReady, tt.wantAlloc)
			}
		})
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestReadyCondition(t *testing.T) {
	pool := manualPool()
	pool.Generation = 4
	tests := []struct {
		name       string
		ready      int32
		err        error
		invalid    bool
		wantStatus metav1.ConditionStatus
		wantReason string
	}{
		{"enough ready", 3, nil, false, metav1.ConditionTrue, arlv1.WarmPoolReasonPoolReady},
		{"more than enough", 4, nil, false, metav1.ConditionTrue, arlv1.WarmPoolReasonPoolReady},
		{"scaling", 2, nil, false, metav1.ConditionFalse, arlv1.WarmPoolReasonScaling},
		{"create failed", 3, errors.New("quota"), false, metav1.ConditionFalse, arlv1.WarmPoolReasonPodCreateFailed},
		{"invalid template", 0, errors.New("no executor"), true, metav1.ConditionFalse, arlv1.WarmPoolReasonInvalidTemplate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := readyCondition(pool, arlv1.WarmPoolStatus{ReadyReplicas: tt.ready}, tt.err, tt.invalid, nil)
			if c.Status != tt.wantStatus || c.Reason != tt.wantReason || c.ObservedGeneration != 4 || c.Message == "" {
				t.Errorf("condition = %+v", c)
			}
		})
	}
}

func TestExpectations(t *testing.T) {
	e := newExpectations()
	clock := time.Unix(0, 0)
	e.now = func() time.Time { return clock }
	if !e.Satisfied("ns/p") {
		t.Fatal("fresh pool not satisfied")
	}
	e.Expect("ns/p", 2, 1)
	e.CreationObserved("ns/p")
	e.DeletionObserved("ns/p")
	if e.Satisfied("ns/p") {
		t.Fatal("satisfied with one creation outstanding")
	}
	e.CreationObserved("ns/p")
	if !e.Satisfied("ns/p") {
		t.Fatal("not satisfied after every write was observed")
	}
	e.DeletionObserved("ns/p") // an extra deletion (e.g. a sandbox's pod) never goes negative
	e.Expect("ns/p", 1, 0)
	if e.Satisfied("ns/p") {
		t.Fatal("an extra deletion cancelled a creation")
	}
	clock = clock.Add(expectationTimeout + time.Second)
	if !e.Satisfied("ns/p") {
		t.Fatal("expectation did not time out")
	}
}

// pulling sets a container of p waiting on an image its node cannot pull.
func pulling(container, reason, message string) podOpt {
	return func(p *corev1.Pod) {
		p.Status.Phase = corev1.PodPending
		st := corev1.ContainerStatus{Name: container, Image: "python:no-such-tag",
			State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: message}}}
		if container == "arl-install" {
			p.Status.InitContainerStatuses = append(p.Status.InitContainerStatuses, st)
		} else {
			p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, st)
		}
	}
}

// A pool short of Ready pods because an image cannot be pulled says so in
// its Ready condition (pod, container, image, the kubelet's message), not
// Scaling; the pods still count as starting, so none are added.
func TestImagePullFailureInReadyCondition(t *testing.T) {
	pool := manualPool()
	msg := `failed to pull and unpack image "docker.io/library/python:no-such-tag": not found`
	pods := []corev1.Pod{
		testPod(pool, "b", pulling("executor", "ErrImagePull", msg)),
		testPod(pool, "a", pulling("executor", "ImagePullBackOff", `Back-off pulling image "python:no-such-tag": ErrImagePull: `+msg)),
		testPod(pool, "c", ready),
	}
	sets := classifyPods(pool, pods, "h", nil)
	if plan := planScale(sets, 3); plan.create != 0 || len(plan.delete) != 0 {
		t.Errorf("plan = %+v, want nothing: the failing pods still count", plan)
	}
	st := computeStatus(pool, sets, nil, false)
	c := meta.FindStatusCondition(st.Conditions, arlv1.WarmPoolConditionReady)
	if c == nil || c.Status != metav1.ConditionFalse || c.Reason != arlv1.WarmPoolReasonImagePullFailed {
		t.Fatalf("condition = %+v, want Ready=False ImagePullFailed", c)
	}
	for _, want := range []string{"1/3 idle pods ready", "2 pod(s)", "pod a:", "container executor", "python:no-such-tag", "ImagePullBackOff", "not found"} {
		if !strings.Contains(c.Message, want) {
			t.Errorf("message %q lacks %q", c.Message, want)
		}
	}
	// The init container's image (the sidecar's) is named as well.
	sets = classifyPods(pool, []corev1.Pod{testPod(pool, "x", pulling("arl-install", "InvalidImageName", "bad ref"))}, "h", nil)
	if c := readyCondition(pool, arlv1.WarmPoolStatus{}, nil, false, sets.pullFailures); c.Reason != arlv1.WarmPoolReasonImagePullFailed || !strings.Contains(c.Message, "container arl-install") {
		t.Errorf("init container pull failure: %+v", c)
	}
	// Enough Ready pods: the pool is Ready whatever an extra pod does.
	if c := readyCondition(pool, arlv1.WarmPoolStatus{ReadyReplicas: 3}, nil, false, sets.pullFailures); c.Reason != arlv1.WarmPoolReasonPoolReady {
		t.Errorf("ready pool with a failing extra pod: %+v", c)
	}
	// A change of waiting reason is a pod change the pool reacts to.
	before := testPod(pool, "a")
	after := testPod(pool, "a", pulling("executor", "ErrImagePull", msg))
	if !podChangeMatters(&before, &after) {
		t.Error("a pod turning to ErrImagePull does not wake the pool")
	}
}
