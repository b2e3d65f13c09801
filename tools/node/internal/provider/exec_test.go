package provider

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/virtual-kubelet/virtual-kubelet/node/api"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

type ttyAttach struct {
	stdin  io.Reader
	stdout bufWriteCloser
	resize chan api.TermSize
}

func (a *ttyAttach) Stdin() io.Reader            { return a.stdin }
func (a *ttyAttach) Stdout() io.WriteCloser      { return &a.stdout }
func (a *ttyAttach) Stderr() io.WriteCloser      { return nil }
func (a *ttyAttach) TTY() bool                   { return true }
func (a *ttyAttach) Resize() <-chan api.TermSize { return a.resize }

func TestExecWithTTY(t *testing.T) {
	p, n := newTestProvider(t)
	ctx := context.Background()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "tty", Namespace: "default", UID: "22222222-aaaa-bbbb-cccc-000000000001"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "executor", Image: "python:3.9-slim",
			Command: []string{"sleep", "infinity"}, WorkingDir: "/tmp"}}},
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

	stdinR, stdinW := io.Pipe()
	a := &ttyAttach{stdin: stdinR, resize: make(chan api.TermSize, 1)}
	a.resize <- api.TermSize{Width: 123, Height: 45}
	close(a.resize)
	done := make(chan error, 1)
	go func() {
		done <- p.RunInContainer(ctx, "default", "tty", "executor", []string{"/bin/bash", "--norc", "-i"}, a)
	}()
	go func() {
		time.Sleep(300 * time.Millisecond)
		_, _ = io.WriteString(stdinW, "tty -s && echo IS-A-TTY; stty size; pwd; echo $((6*7)); exit 5\n")
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "exit status 5") {
			t.Fatalf("exit: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("exec with tty did not end")
	}
	out := a.stdout.String()
	for _, want := range []string{"IS-A-TTY", "45 123", "/tmp", "42"} {
		if !strings.Contains(out, want) {
			t.Fatalf("tty session output misses %q:\n%s", want, out)
		}
	}
}
