package provider

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func running(name string, ready bool) corev1.ContainerStatus {
	return corev1.ContainerStatus{Name: name, Ready: ready, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}
}

func exited(name string, code int32) corev1.ContainerStatus {
	return corev1.ContainerStatus{Name: name, State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: code}}}
}

func waiting(name, reason string) corev1.ContainerStatus {
	return corev1.ContainerStatus{Name: name, State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason}}}
}

func condStatus(st corev1.PodStatus, t corev1.PodConditionType) corev1.ConditionStatus {
	for _, c := range st.Conditions {
		if c.Type == t {
			return c.Status
		}
	}
	return ""
}

func TestComputeStatus(t *testing.T) {
	two := []corev1.Container{{Name: "a"}, {Name: "b"}}
	cases := []struct {
		name      string
		snap      podSnapshot
		phase     corev1.PodPhase
		ready     corev1.ConditionStatus
		initiated corev1.ConditionStatus
	}{
		{"creating", podSnapshot{Containers: two, ContainerSt: []corev1.ContainerStatus{waiting("a", "ContainerCreating"), waiting("b", "ContainerCreating")}},
			corev1.PodPending, corev1.ConditionFalse, corev1.ConditionTrue},
		{"init running", podSnapshot{Containers: two, InitContainers: []corev1.Container{{Name: "i"}}, SandboxReady: true},
			corev1.PodPending, corev1.ConditionFalse, corev1.ConditionFalse},
		{"one ready one not", podSnapshot{Containers: two, InitDone: true, SandboxReady: true, ContainerSt: []corev1.ContainerStatus{running("a", true), running("b", false)}},
			corev1.PodRunning, corev1.ConditionFalse, corev1.ConditionTrue},
		{"all ready", podSnapshot{Containers: two, InitDone: true, SandboxReady: true, ContainerSt: []corev1.ContainerStatus{running("a", true), running("b", true)}},
			corev1.PodRunning, corev1.ConditionTrue, corev1.ConditionTrue},
		{"crash looping is running", podSnapshot{Containers: two[:1], InitDone: true, ContainerSt: []corev1.ContainerStatus{{Name: "a", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}}, LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 128}}}}},
			corev1.PodRunning, corev1.ConditionFalse, corev1.ConditionTrue},
		{"succeeded", podSnapshot{Containers: two, InitDone: true, Final: map[string]bool{"a": true, "b": true}, ContainerSt: []corev1.ContainerStatus{exited("a", 0), exited("b", 0)}},
			corev1.PodSucceeded, corev1.ConditionFalse, corev1.ConditionTrue},
		{"failed", podSnapshot{Containers: two, InitDone: true, Final: map[string]bool{"a": true, "b": true}, ContainerSt: []corev1.ContainerStatus{exited("a", 0), exited("b", 2)}},
			corev1.PodFailed, corev1.ConditionFalse, corev1.ConditionTrue},
		{"one final one running", podSnapshot{Containers: two, InitDone: true, Final: map[string]bool{"a": true}, ContainerSt: []corev1.ContainerStatus{exited("a", 1), running("b", true)}},
			corev1.PodRunning, corev1.ConditionFalse, corev1.ConditionTrue},
		{"init failed for good", podSnapshot{Containers: two, InitContainers: []corev1.Container{{Name: "i"}}, InitFailed: true},
			corev1.PodFailed, corev1.ConditionFalse, corev1.ConditionFalse},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if len(c.snap.InitContainers) == 0 && !c.snap.InitFailed {
				c.snap.InitDone = c.snap.InitDone || c.initiated == corev1.ConditionTrue
			}
			st := computeStatus(c.snap, metav1.Now())
			if st.Phase != c.phase {
				t.Errorf("phase = %s, want %s", st.Phase, c.phase)
			}
			if got := condStatus(st, corev1.PodReady); got != c.ready {
				t.Errorf("Ready = %s, want %s", got, c.ready)
			}
			if got := condStatus(st, corev1.ContainersReady); got != c.ready {
				t.Errorf("ContainersReady = %s, want %s", got, c.ready)
			}
			if got := condStatus(st, corev1.PodInitialized); got != c.initiated {
				t.Errorf("Initialized = %s, want %s", got, c.initiated)
			}
			if got := condStatus(st, corev1.PodScheduled); got != corev1.ConditionTrue {
				t.Errorf("PodScheduled = %s", got)
			}
		})
	}
}

func TestConditionTransitionTimeKept(t *testing.T) {
	old := metav1.NewTime(time.Now().Add(-time.Hour).Truncate(time.Second))
	snap := podSnapshot{Containers: []corev1.Container{{Name: "a"}}, InitDone: true, SandboxReady: true,
		ContainerSt: []corev1.ContainerStatus{running("a", true)},
		Previous:    []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: old}, {Type: corev1.PodInitialized, Status: corev1.ConditionFalse, LastTransitionTime: old}}}
	st := computeStatus(snap, metav1.Now())
	for _, c := range st.Conditions {
		switch c.Type {
		case corev1.PodReady:
			if !c.LastTransitionTime.Equal(&old) {
				t.Errorf("Ready's transition time moved though its status did not")
			}
		case corev1.PodInitialized:
			if c.LastTransitionTime.Equal(&old) {
				t.Errorf("Initialized changed status but kept its old transition time")
			}
		}
	}
}

func TestQOSClass(t *testing.T) {
	res := func(req, lim string) corev1.ResourceRequirements {
		r := corev1.ResourceRequirements{}
		if req != "" {
			r.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(req), corev1.ResourceMemory: resource.MustParse("64Mi")}
		}
		if lim != "" {
			r.Limits = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(lim), corev1.ResourceMemory: resource.MustParse("64Mi")}
		}
		return r
	}
	cases := map[corev1.PodQOSClass]corev1.PodSpec{
		corev1.PodQOSBestEffort: {Containers: []corev1.Container{{Name: "a"}}},
		corev1.PodQOSBurstable:  {Containers: []corev1.Container{{Name: "a", Resources: res("10m", "")}}},
		corev1.PodQOSGuaranteed: {Containers: []corev1.Container{{Name: "a", Resources: res("", "100m")}}},
	}
	for want, spec := range cases {
		if got := qosClass(&spec); got != want {
			t.Errorf("qosClass = %s, want %s", got, want)
		}
	}
	snap := podSnapshot{QOSClass: corev1.PodQOSBurstable, InitDone: true}
	if st := computeStatus(snap, metav1.Now()); st.QOSClass != corev1.PodQOSBurstable {
		t.Fatalf("the status must keep the apiserver's QoS class (it is immutable), got %q", st.QOSClass)
	}
}
