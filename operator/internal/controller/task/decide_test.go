package task

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

func testTask(retries int32, steps ...string) *arlv1.Task {
	t := &arlv1.Task{
		ObjectMeta: metav1.ObjectMeta{Name: "t", Namespace: "ns", Generation: 1},
		Spec:       arlv1.TaskSpec{SandboxRef: "sb", Retries: retries},
	}
	for _, s := range steps {
		t.Spec.Steps = append(t.Spec.Steps, arlv1.TaskStep{Name: s, Type: arlv1.StepTypeCommand, Command: []string{"true"}})
	}
	return t
}

func withSteps(t *arlv1.Task, state arlv1.TaskState, attempts int32, steps ...arlv1.StepState) *arlv1.Task {
	t.Status.State = state
	t.Status.Attempts = attempts
	for i, s := range steps {
		t.Status.Steps = append(t.Status.Steps, arlv1.StepStatus{Name: t.Spec.Steps[i].Name, State: s, Attempt: attempts})
	}
	return t
}

func readySandbox() *arlv1.Sandbox {
	return &arlv1.Sandbox{
		ObjectMeta: metav1.ObjectMeta{Name: "sb", Namespace: "ns", UID: "sb-uid"},
		Status:     arlv1.SandboxStatus{Phase: arlv1.SandboxPhaseReady, PodIP: "10.0.0.2", PodName: "pod"},
	}
}

func TestDecide(t *testing.T) {
	now := metav1.NewTime(time.Now())
	bound := readySandbox()
	bound.Status.Phase, bound.Status.PodIP = arlv1.SandboxPhaseBound, ""
	failed := readySandbox()
	failed.Status.Phase = arlv1.SandboxPhaseFailed
	deleting := readySandbox()
	deleting.DeletionTimestamp = &now
	deleting.Finalizers = []string{"x"}
	noIP := readySandbox()
	noIP.Status.PodIP = ""
	deletedTask := testTask(0, "a")
	deletedTask.DeletionTimestamp = &now
	// boundTo records a dispatch to the sandbox with uid.
	boundTo := func(task *arlv1.Task, uid string) *arlv1.Task {
		task.Status.SandboxUID = types.UID(uid)
		return task
	}

	tests := []struct {
		name       string
		task       *arlv1.Task
		sandbox    *arlv1.Sandbox
		want       actionKind
		reason     string
		resumeFrom int
	}{
		{"new task, sandbox Ready: run", testTask(0, "a", "b"), readySandbox(), actRun, "", 0},
		{"new task, no sandbox: wait", testTask(0, "a"), nil, actWait, arlv1.TaskReasonSandboxNotFound, 0},
		{"new task, sandbox Bound: wait", testTask(0, "a"), bound, actWait, arlv1.TaskReasonSandboxNotReady, 0},
		{"Ready without an IP: wait", testTask(0, "a"), noIP, actWait, arlv1.TaskReasonSandboxNotReady, 0},
		{"sandbox being deleted: wait", testTask(0, "a"), deleting, actWait, arlv1.TaskReasonSandboxNotReady, 0},
		{"sandbox Failed: fail without running", testTask(0, "a"), failed, actFail, arlv1.TaskReasonSandboxFailed, 0},
		{"Pending task, sandbox Ready: run", withSteps(testTask(0, "a"), arlv1.TaskStatePending, 0), readySandbox(), actRun, "", 0},
		{"Succeeded: nothing", withSteps(testTask(0, "a"), arlv1.TaskStateSucceeded, 1, arlv1.StepStateSucceeded), readySandbox(), actNone, "", 0},
		{"Failed: nothing", withSteps(testTask(0, "a"), arlv1.TaskStateFailed, 1, arlv1.StepStateFailed), readySandbox(), actNone, "", 0},
		{"being deleted: nothing", deletedTask, readySandbox(), actNone, "", 0},
		{
			"Running with a step marked Running: interrupted, even with retries left",
			withSteps(testTask(3, "a", "b"), arlv1.TaskStateRunning, 1, arlv1.StepStateSucceeded, arlv1.StepStateRunning),
			readySandbox(), actInterrupted, arlv1.TaskReasonOperatorRestarted, 0,
		},
		{
			"Running with no step record: interrupted",
			withSteps(testTask(0, "a"), arlv1.TaskStateRunning, 1),
			readySandbox(), actInterrupted, arlv1.TaskReasonOperatorRestarted, 0,
		},
		{
			"interrupted is decided before the sandbox is looked at",
			withSteps(testTask(0, "a"), arlv1.TaskStateRunning, 1, arlv1.StepStateRunning),
			nil, actInterrupted, arlv1.TaskReasonOperatorRestarted, 0,
		},
		{
			"paused after two of three steps: resume at the third",
			withSteps(testTask(0, "a", "b", "c"), arlv1.TaskStateRunning, 1, arlv1.StepStateSucceeded, arlv1.StepStateSucceeded),
			readySandbox(), actRun, "", 2,
		},
		{
			"paused but the sandbox is gone: wait",
			withSteps(testTask(0, "a", "b"), arlv1.TaskStateRunning, 1, arlv1.StepStateSucceeded),
			nil, actWait, arlv1.TaskReasonSandboxNotFound, 0,
		},
		{
			"failed attempt with retries left: new attempt",
			withSteps(testTask(1, "a", "b"), arlv1.TaskStateRunning, 1, arlv1.StepStateFailed, arlv1.StepStateSkipped),
			readySandbox(), actRun, "", 0,
		},
		{
			"paused in the sandbox it was dispatched to: resume",
			boundTo(withSteps(testTask(0, "a", "b"), arlv1.TaskStateRunning, 1, arlv1.StepStateSucceeded), "sb-uid"),
			readySandbox(), actRun, "", 1,
		},
		{
			"paused, and the sandbox of that name is another one: fail, never resume there",
			boundTo(withSteps(testTask(0, "a", "b"), arlv1.TaskStateRunning, 1, arlv1.StepStateSucceeded), "old-uid"),
			readySandbox(), actFail, arlv1.TaskReasonSandboxReplaced, 0,
		},
		{
			"retry pending, and the sandbox of that name is another one: fail",
			boundTo(withSteps(testTask(1, "a"), arlv1.TaskStateRunning, 1, arlv1.StepStateFailed), "old-uid"),
			readySandbox(), actFail, arlv1.TaskReasonSandboxReplaced, 0,
		},
		{
			"Pending (never dispatched) tasks follow the name: run",
			withSteps(testTask(0, "a"), arlv1.TaskStatePending, 0), readySandbox(), actRun, "", 0,
		},
		{
			"failed attempt with no retries left while Running: interrupted",
			withSteps(testTask(1, "a"), arlv1.TaskStateRunning, 2, arlv1.StepStateFailed),
			readySandbox(), actInterrupted, arlv1.TaskReasonOperatorRestarted, 0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := decide(tt.task, tt.sandbox)
			if got.kind != tt.want || got.reason != tt.reason || got.resumeFrom != tt.resumeFrom {
				t.Fatalf("decide = %+v, want kind %d reason %q resumeFrom %d", got, tt.want, tt.reason, tt.resumeFrom)
			}
			if (got.kind == actWait || got.kind == actFail || got.kind == actInterrupted) && got.message == "" {
				t.Fatal("a wait, a failure or an interruption must say why")
			}
		})
	}
}

func TestResumePointRejectsRecordsOfAnotherAttemptOrSpec(t *testing.T) {
	task := withSteps(testTask(0, "a", "b"), arlv1.TaskStateRunning, 2, arlv1.StepStateSucceeded)
	task.Status.Steps[0].Attempt = 1
	if _, ok := resumePoint(task); ok {
		t.Fatal("a step record of an earlier attempt must not be resumed")
	}
	task = withSteps(testTask(0, "a", "b"), arlv1.TaskStateRunning, 1, arlv1.StepStateSucceeded)
	task.Status.Steps[0].Name = "other"
	if _, ok := resumePoint(task); ok {
		t.Fatal("a step record that does not match the spec must not be resumed")
	}
}
