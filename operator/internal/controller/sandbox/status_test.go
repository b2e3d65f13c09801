package sandbox

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

func pod(opts ...func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "pool-abcde"}, Status: corev1.PodStatus{PodIP: "10.244.0.7"}}
	for _, o := range opts {
		o(p)
	}
	return p
}

func podReady(p *corev1.Pod) {
	p.Status.Phase = corev1.PodRunning
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
}

func TestComputeStatus(t *testing.T) {
	at := metav1.NewTime(time.Unix(1000, 0))
	tests := []struct {
		name       string
		status     arlv1.SandboxStatus
		obs        observation
		wantPhase  arlv1.SandboxPhase
		wantReason string
		wantReady  metav1.ConditionStatus
		wantPod    string
	}{
		{"pool missing", arlv1.SandboxStatus{}, observation{}, arlv1.SandboxPhasePending, arlv1.SandboxReasonPoolNotFound, metav1.ConditionFalse, ""},
		{"no idle pod", arlv1.SandboxStatus{}, observation{poolFound: true}, arlv1.SandboxPhasePending, arlv1.SandboxReasonWaitingForPool, metav1.ConditionFalse, ""},
		{"bound to a Ready pod", arlv1.SandboxStatus{}, observation{poolFound: true, pod: pod(podReady), allocatedAt: &at},
			arlv1.SandboxPhaseReady, arlv1.SandboxReasonSidecarReady, metav1.ConditionTrue, "pool-abcde"},
		{"bound, pod not Ready", arlv1.SandboxStatus{PodName: "pool-abcde"}, observation{poolFound: true, pod: pod()},
			arlv1.SandboxPhaseBound, arlv1.SandboxReasonPodAllocated, metav1.ConditionFalse, "pool-abcde"},
		{"pod deleted", arlv1.SandboxStatus{PodName: "pool-abcde", Phase: arlv1.SandboxPhaseReady}, observation{poolFound: true, podMissing: true},
			arlv1.SandboxPhaseFailed, arlv1.SandboxReasonPodLost, metav1.ConditionFalse, "pool-abcde"},
		{"pod being deleted", arlv1.SandboxStatus{PodName: "pool-abcde"},
			observation{poolFound: true, pod: pod(podReady, func(p *corev1.Pod) { p.DeletionTimestamp = &at })},
			arlv1.SandboxPhaseFailed, arlv1.SandboxReasonPodLost, metav1.ConditionFalse, "pool-abcde"},
		{"pod failed", arlv1.SandboxStatus{PodName: "pool-abcde"},
			observation{poolFound: true, pod: pod(func(p *corev1.Pod) { p.Status.Phase = corev1.PodFailed })},
			arlv1.SandboxPhaseFailed, arlv1.SandboxReasonPodFailed, metav1.ConditionFalse, "pool-abcde"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sb := &arlv1.Sandbox{ObjectMeta: metav1.ObjectMeta{Name: "sb", Generation: 2}, Spec: arlv1.SandboxSpec{PoolRef: "pool"}, Status: tt.status}
			st := computeStatus(sb, tt.obs)
			if st.Phase != tt.wantPhase || st.PodName != tt.wantPod {
				t.Errorf("phase/pod = %s/%s, want %s/%s", st.Phase, st.PodName, tt.wantPhase, tt.wantPod)
			}
			if len(st.Conditions) != 1 {
				t.Fatalf("conditions = %+v", st.Conditions)
			}
			c := st.Conditions[0]
			if c.Type != arlv1.SandboxConditionReady || c.Reason != tt.wantReason || c.Status != tt.wantReady || c.ObservedGeneration != 2 || c.Message == "" {
				t.Errorf("condition = %+v", c)
			}
			if tt.wantPhase == arlv1.SandboxPhaseReady && (st.PodIP != "10.244.0.7" || st.WorkDir != "/workspace" || st.AllocationTime == nil) {
				t.Errorf("ready status lacks pod details: %+v", st)
			}
		})
	}
}

func TestFailedIsTerminal(t *testing.T) {
	sb := &arlv1.Sandbox{Status: arlv1.SandboxStatus{Phase: arlv1.SandboxPhaseFailed, PodName: "gone"}}
	st := computeStatus(sb, observation{poolFound: true, pod: pod(podReady)})
	if st.Phase != arlv1.SandboxPhaseFailed || st.PodName != "gone" {
		t.Errorf("a Failed sandbox changed: %+v", st)
	}
}

func TestLastTaskTime(t *testing.T) {
	ts := func(s int64) *metav1.Time { return ptr.To(metav1.NewTime(time.Unix(s, 0))) }
	tasks := []arlv1.Task{
		{Status: arlv1.TaskStatus{StartTime: ts(10), CompletionTime: ts(20)}},
		{Status: arlv1.TaskStatus{StartTime: ts(30)}},
		{},
	}
	if got := lastTaskTime(tasks); got == nil || got.Unix() != 30 {
		t.Errorf("lastTaskTime = %v, want 30", got)
	}
	if lastTaskTime(nil) != nil {
		t.Error("lastTaskTime of no tasks is not nil")
	}
	sb := &arlv1.Sandbox{Status: arlv1.SandboxStatus{LastTaskTime: ts(50)}}
	if st := computeStatus(sb, observation{poolFound: true, lastTaskTime: ts(40)}); st.LastTaskTime.Unix() != 50 {
		t.Errorf("lastTaskTime went back to %v", st.LastTaskTime)
	}
}

func TestWorkDirFollowsTheExecutorsWorkspaceMount(t *testing.T) {
	p := pod(podReady)
	if got := workDirOf(p); got != "/workspace" {
		t.Errorf("no mount: %s", got)
	}
	p.Spec.Containers = []corev1.Container{{Name: "executor", VolumeMounts: []corev1.VolumeMount{{Name: "workspace", MountPath: "/home/jovyan/work"}}}}
	if got := workDirOf(p); got != "/home/jovyan/work" {
		t.Errorf("custom mount: %s", got)
	}
}
