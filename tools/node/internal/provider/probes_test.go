package provider

import (
	"context"
	"net"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestProbes(t *testing.T) {
	p, n := newTestProvider(t)
	ctx := context.Background()
	grace := int64(1)
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "probed", Namespace: "default", UID: "33333333-aaaa-bbbb-cccc-000000000001"},
		Spec: corev1.PodSpec{TerminationGracePeriodSeconds: &grace, Containers: []corev1.Container{
			{
				// Serves only after 1.5 s; the startup probe (10 x 1 s allowed:
				// Python starts slowly on a loaded machine) must not kill it
				// meanwhile, and readiness must follow quickly.
				Name: "slow", Image: "python:3.9-slim",
				Command: []string{"sh", "-c", "sleep 1.5; exec python3 -m http.server 5000"},
				StartupProbe: &corev1.Probe{PeriodSeconds: 1, FailureThreshold: 10,
					ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(5000)}}},
				ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Port: intstr.FromString("http")}}},
				Ports:          []corev1.ContainerPort{{Name: "http", ContainerPort: 5000}},
			},
			{
				// Alive while /tmp/alive exists in its mount namespace... which
				// it deletes after 1 s: liveness restarts it.
				Name: "dies", Image: "busybox",
				Command: []string{"sh", "-c", "touch /tmp/alive-probe-test; sleep 1; rm /tmp/alive-probe-test; exec sleep infinity"},
				LivenessProbe: &corev1.Probe{PeriodSeconds: 1, FailureThreshold: 1, InitialDelaySeconds: 0,
					ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"test", "-f", "/tmp/alive-probe-test"}}}},
			},
		}},
	}
	start := time.Now()
	if err := p.CreatePod(ctx, pod); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		d := pod.DeepCopy()
		d.DeletionGracePeriodSeconds = &grace
		_ = p.DeletePod(ctx, d)
		waitFor(t, "pod gone", 10*time.Second, func() bool { pods, _ := p.GetPods(ctx); return len(pods) == 0 })
	})
	status := func(name string) corev1.ContainerStatus {
		for _, cs := range n.last(pod.UID).Status.ContainerStatuses {
			if cs.Name == name {
				return cs
			}
		}
		return corev1.ContainerStatus{}
	}
	// Readiness must follow the port opening within a few fast-probe rounds (loaded CI machines are slow).
	var opened time.Time
	waitFor(t, "slow container ready", 15*time.Second, func() bool {
		if ip := n.last(pod.UID).Status.PodIP; opened.IsZero() && ip != "" {
			if conn, err := net.DialTimeout("tcp", ip+":5000", 50*time.Millisecond); err == nil {
				conn.Close()
				opened = time.Now()
			}
		}
		return status("slow").Ready
	})
	readyAt := time.Now()
	if opened.IsZero() {
		opened = readyAt // ready before this loop saw the port open: fine
	}
	if readyAt.Sub(start) < 1500*time.Millisecond || readyAt.Sub(opened) > 1500*time.Millisecond {
		t.Fatalf("ready %v after create and %v after the port opened; want after the 1.5 s sleep and within 1.5 s of the port (a kubelet waits a 10 s period)",
			readyAt.Sub(start), readyAt.Sub(opened))
	}
	if cs := status("slow"); cs.RestartCount != 0 || cs.Started == nil || !*cs.Started {
		t.Fatalf("the startup probe restarted or never started the slow container: %+v", cs)
	}
	waitFor(t, "liveness restart", 10*time.Second, func() bool { return status("dies").RestartCount >= 1 })
	last := status("dies").LastTerminationState.Terminated
	if last == nil || last.ExitCode != 143 {
		t.Fatalf("the liveness restart's last state = %+v, want SIGTERM (143)", status("dies").LastTerminationState)
	}
}
