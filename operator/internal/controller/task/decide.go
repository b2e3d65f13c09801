package task

import (
	"fmt"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

type actionKind int

const (
	// actNone: nothing to do (finished task).
	actNone actionKind = iota
	// actWait: the sandbox is not Ready; record why and wait for its events.
	actWait
	// actFail: fail the task without running anything (its sandbox failed).
	actFail
	// actInterrupted: an attempt was in flight in an operator that is gone.
	actInterrupted
	// actRun: dispatch an attempt to a worker.
	actRun
)

// decision is what a reconcile does with a task that no worker of this
// process holds.
type decision struct {
	kind    actionKind
	reason  string
	message string
	// resumeFrom is the first step to run (actRun); 0 starts a new attempt,
	// more resumes the paused current one.
	resumeFrom int
}

// decide is the Task state machine's entry: a pure function of the task and
// its sandbox (nil when it does not exist) as the cache shows them.
func decide(task *arlv1.Task, sandbox *arlv1.Sandbox) decision {
	if task.IsFinished() || task.DeletionTimestamp != nil {
		return decision{kind: actNone}
	}
	resumeFrom := 0
	if task.Status.State == arlv1.TaskStateRunning {
		next, ok := resumePoint(task)
		if !ok {
			return decision{
				kind:    actInterrupted,
				reason:  arlv1.TaskReasonOperatorRestarted,
				message: interruptedMessage(task),
			}
		}
		resumeFrom = next
	}
	switch {
	case sandbox == nil:
		return decision{kind: actWait, reason: arlv1.TaskReasonSandboxNotFound,
			message: fmt.Sprintf("sandbox %q does not exist yet; the task runs once it is Ready", task.Spec.SandboxRef)}
	case task.DispatchedElsewhere(sandbox.UID):
		return decision{kind: actFail, reason: arlv1.TaskReasonSandboxReplaced,
			message: fmt.Sprintf("sandbox %q (uid %s) that the task was dispatched to is gone; the sandbox now under that name (uid %s) is another one and gets none of this task's steps",
				task.Spec.SandboxRef, task.Status.SandboxUID, sandbox.UID)}
	case sandbox.Status.Phase == arlv1.SandboxPhaseFailed:
		return decision{kind: actFail, reason: arlv1.TaskReasonSandboxFailed,
			message: fmt.Sprintf("sandbox %q failed: %s", sandbox.Name, sandboxReadyMessage(sandbox))}
	case sandbox.DeletionTimestamp != nil:
		return decision{kind: actWait, reason: arlv1.TaskReasonSandboxNotReady,
			message: fmt.Sprintf("sandbox %q is being deleted", sandbox.Name)}
	case sandbox.Status.Phase != arlv1.SandboxPhaseReady || sandbox.Status.PodIP == "":
		phase := string(sandbox.Status.Phase)
		if phase == "" {
			phase = "new"
		}
		return decision{kind: actWait, reason: arlv1.TaskReasonSandboxNotReady,
			message: fmt.Sprintf("sandbox %q is %s (%s); the task runs once it is Ready", sandbox.Name, phase, sandboxReadyMessage(sandbox))}
	}
	return decision{kind: actRun, resumeFrom: resumeFrom}
}

// resumePoint tells whether a Running task that no worker holds can go on
// without running any step twice, and from which step:
//   - a paused attempt (every step recorded so far Succeeded, none Running)
//     resumes at its next step;
//   - a failed attempt waiting for its retry (a step Failed, none Running,
//     attempts left) starts a new attempt at step 0.
//
// Anything else was interrupted mid-step.
func resumePoint(task *arlv1.Task) (int, bool) {
	steps := task.Status.Steps
	if len(steps) == 0 || len(steps) > len(task.Spec.Steps) {
		return 0, false
	}
	failed := false
	for i, s := range steps {
		if s.Name != task.Spec.Steps[i].Name || s.Attempt != task.Status.Attempts {
			return 0, false
		}
		switch s.State {
		case arlv1.StepStateSucceeded:
		case arlv1.StepStateFailed, arlv1.StepStateSkipped:
			failed = true
		default:
			return 0, false
		}
	}
	if failed {
		return 0, task.Status.Attempts < maxAttempts(task)
	}
	return len(steps), true
}

func interruptedMessage(task *arlv1.Task) string {
	for _, s := range task.Status.Steps {
		if s.State == arlv1.StepStateRunning {
			return fmt.Sprintf("the operator stopped while attempt %d was running step %q (or a later one); that step may have run, so it is not run again", task.Status.Attempts, s.Name)
		}
	}
	return fmt.Sprintf("the operator stopped while attempt %d was running; its steps may have run, so they are not run again", task.Status.Attempts)
}

func sandboxReadyMessage(sandbox *arlv1.Sandbox) string {
	for _, c := range sandbox.Status.Conditions {
		if c.Type == arlv1.SandboxConditionReady {
			if c.Message != "" {
				return c.Reason + ": " + c.Message
			}
			return c.Reason
		}
	}
	return "no Ready condition yet"
}
