package provider

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// A burst of status changes is one report; a readiness change is reported
// at once, and a status equal to the last report is not reported again.
func TestStatusReportsCoalesce(t *testing.T) {
	p := &Provider{cfg: Config{HostIP: "10.0.0.1"}, pods: map[string]*podRuntime{}}
	var reports atomic.Int32
	p.NotifyPods(context.Background(), func(*corev1.Pod) { reports.Add(1) })
	probe := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{}}}
	pr := newPodRuntime(p, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "default", UID: "u1"},
		Spec: corev1.PodSpec{
			InitContainers: []corev1.Container{{Name: "init"}},
			Containers:     []corev1.Container{{Name: "a"}, {Name: "b", ReadinessProbe: probe}},
		},
	})
	defer pr.cancel()

	// The steps of a start, milliseconds apart: one report once they settle.
	steps := []func(){
		func() { pr.sandboxReady = true },
		func() { pr.inits[0].state = corev1.ContainerState{Running: &corev1.ContainerStateRunning{}} },
		func() { pr.inits[0].state = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{}} },
		func() { pr.initDone = true },
		func() {
			pr.mains[0].state = corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}
			pr.mains[0].ready = true
		},
		func() { pr.mains[1].state = corev1.ContainerState{Running: &corev1.ContainerStateRunning{}} },
	}
	for _, step := range steps {
		pr.mu.Lock()
		step()
		pr.mu.Unlock()
		pr.notifyStatus()
	}
	if n := reports.Load(); n != 0 {
		t.Fatalf("%d reports right after the start's steps, want them held until the status settles", n)
	}
	waitFor(t, "the settled status reported", 10*time.Second, func() bool { return reports.Load() >= 1 })
	time.Sleep(statusSettleTime + 200*time.Millisecond)
	if n := reports.Load(); n != 1 {
		t.Fatalf("%d reports for one burst of changes, want 1", n)
	}

	// The probed container turning ready (so the pod): reported at once.
	pr.mu.Lock()
	pr.mains[1].ready = true
	pr.mu.Unlock()
	pr.notifyStatus()
	if n := reports.Load(); n != 2 {
		t.Fatalf("%d reports after the pod turned Ready, want 2 (reported at once)", n)
	}

	// Nothing changed: no report.
	pr.reportStatusNow()
	if n := reports.Load(); n != 2 {
		t.Fatalf("%d reports after reporting an unchanged status, want still 2", n)
	}
}
