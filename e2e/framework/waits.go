package framework

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

// WaitSandboxReady waits until the sandbox's phase is Ready and returns it.
func WaitSandboxReady(t testing.TB, name string, timeout time.Duration) *arlv1.Sandbox {
	t.Helper()
	sb := &arlv1.Sandbox{}
	Until(t, timeout, "sandbox "+name+" to be Ready", func(c context.Context) (bool, string, error) {
		if err := Client().Get(c, Key(name), sb); err != nil {
			return false, "", err
		}
		return sb.Status.Phase == arlv1.SandboxPhaseReady, fmt.Sprintf("phase %q; %s", sb.Status.Phase, conditions(sb.Status.Conditions)), nil
	})
	return sb
}

// WaitTaskFinished waits until the task is Succeeded or Failed and returns it.
func WaitTaskFinished(t testing.TB, name string, timeout time.Duration) *arlv1.Task {
	t.Helper()
	task := &arlv1.Task{}
	Until(t, timeout, "task "+name+" to finish", func(c context.Context) (bool, string, error) {
		if err := Client().Get(c, Key(name), task); err != nil {
			return false, "", err
		}
		return task.IsFinished(), DescribeTask(task), nil
	})
	return task
}

// WaitTask waits until the task finishes and fails the test unless it ended
// in state want.
func WaitTask(t testing.TB, name string, want arlv1.TaskState, timeout time.Duration) *arlv1.Task {
	t.Helper()
	task := WaitTaskFinished(t, name, timeout)
	if task.Status.State != want {
		t.Fatalf("task %s ended %s, want %s: %s; stdout %q, stderr %q", name, task.Status.State, want, DescribeTask(task), task.Status.Stdout, task.Status.Stderr)
	}
	return task
}

// WaitPoolReady waits until the pool reports exactly ready idle Ready pods.
func WaitPoolReady(t testing.TB, name string, ready int32, timeout time.Duration) *arlv1.WarmPool {
	t.Helper()
	pool := &arlv1.WarmPool{}
	Until(t, timeout, fmt.Sprintf("pool %s to have %d ready pods", name, ready), func(c context.Context) (bool, string, error) {
		if err := Client().Get(c, Key(name), pool); err != nil {
			return false, "", err
		}
		return pool.Status.ReadyReplicas == ready, fmt.Sprintf("replicas %d, ready %d, allocated %d; %s",
			pool.Status.Replicas, pool.Status.ReadyReplicas, pool.Status.AllocatedReplicas, conditions(pool.Status.Conditions)), nil
	})
	return pool
}

// DescribeTask is a task's status in one line: state, reason, message and
// each step's state.
func DescribeTask(task *arlv1.Task) string {
	steps := make([]string, len(task.Status.Steps))
	for i, s := range task.Status.Steps {
		steps[i] = s.Name + "=" + string(s.State)
	}
	return fmt.Sprintf("state %q, reason %q, message %q, steps [%s]; %s",
		task.Status.State, task.Status.Reason, task.Status.Message, strings.Join(steps, " "), conditions(task.Status.Conditions))
}

// StepState is the recorded state of the task's step ("" when it has none).
func StepState(task *arlv1.Task, step string) arlv1.StepState {
	for _, s := range task.Status.Steps {
		if s.Name == step {
			return s.State
		}
	}
	return ""
}

func conditions(conds []metav1.Condition) string {
	if len(conds) == 0 {
		return "no conditions"
	}
	parts := make([]string, len(conds))
	for i, c := range conds {
		parts[i] = fmt.Sprintf("%s=%s %s: %s", c.Type, c.Status, c.Reason, c.Message)
	}
	return "conditions " + strings.Join(parts, "; ")
}

// Eventually polls cond until it holds or the timeout passes, for what no
// API object shows (processes, files, containerd).
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s", timeout, what)
}
