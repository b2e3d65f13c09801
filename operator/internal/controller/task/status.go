package task

import (
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

// maxMessageBytes bounds status.message and condition messages built from
// sidecar errors.
const maxMessageBytes = 1024

// plan is one attempt as a worker runs it.
type plan struct {
	attempt     int32
	maxAttempts int32
	// resumeFrom is the first step this worker runs.
	resumeFrom int
	podName    string
	// sandboxUID is recorded in status.sandboxUID by the attempt's first write.
	sandboxUID types.UID
	// taskStart is when the task's first attempt started, as precisely as
	// this process knows it (status.startTime keeps whole seconds only).
	taskStart time.Time
}

func maxAttempts(task *arlv1.Task) int32 { return 1 + max(task.Spec.Retries, 0) }

// stepOutcome is what one step did.
type stepOutcome struct {
	status    arlv1.StepStatus
	stdout    string
	stderr    string
	stdoutCut bool
	stderrCut bool
	// failReason is empty for a step that succeeded, else StepFailed,
	// Timeout or SidecarError.
	failReason string
}

// attemptOutcome is what the steps a worker ran did.
type attemptOutcome struct {
	// steps ran in order starting at plan.resumeFrom.
	steps []stepOutcome
	// paused: the worker stopped between two steps because the operator is
	// stopping; the remaining steps did not run.
	paused bool
}

func (o attemptOutcome) failed() *stepOutcome {
	if n := len(o.steps); n > 0 && o.steps[n-1].failReason != "" {
		return &o.steps[n-1]
	}
	return nil
}

// verdict is what the status written after an attempt says.
type verdict int

const (
	verdictSucceeded verdict = iota
	verdictFailed
	// verdictRetry: the attempt failed and another one is allowed.
	verdictRetry
	verdictPaused
)

// setConditions sets the Complete and Failed conditions from st's state,
// as a Job's: Complete is True once the task succeeded, Failed is True once
// it failed; both are False (with the current reason) until then.
func setConditions(st *arlv1.TaskStatus, generation int64) {
	for _, c := range []struct {
		kind   string
		isTrue bool
	}{
		{arlv1.TaskConditionComplete, st.State == arlv1.TaskStateSucceeded},
		{arlv1.TaskConditionFailed, st.State == arlv1.TaskStateFailed},
	} {
		status := metav1.ConditionFalse
		if c.isTrue {
			status = metav1.ConditionTrue
		}
		meta.SetStatusCondition(&st.Conditions, metav1.Condition{
			Type:               c.kind,
			Status:             status,
			Reason:             st.Reason,
			Message:            st.Message,
			ObservedGeneration: generation,
		})
	}
}

// waitingStatus is the status of a task waiting for its sandbox. A paused
// attempt stays Running; anything else is Pending.
func waitingStatus(task *arlv1.Task, reason, message string) arlv1.TaskStatus {
	st := *task.Status.DeepCopy()
	if st.State != arlv1.TaskStateRunning {
		st.State = arlv1.TaskStatePending
	}
	st.Reason = reason
	st.Message = message
	st.ObservedGeneration = task.Generation
	setConditions(&st, task.Generation)
	return st
}

// claimedStatus records an attempt (or the resumption of a paused one)
// before any of its steps runs: the step about to run is marked Running, so
// an operator that finds it so after a crash knows it may have run.
func claimedStatus(task *arlv1.Task, p plan, now time.Time) arlv1.TaskStatus {
	st := *task.Status.DeepCopy()
	st.State = arlv1.TaskStateRunning
	st.Attempts = p.attempt
	if st.StartTime == nil {
		start := p.taskStart
		if start.IsZero() {
			start = now
		}
		st.StartTime = &metav1.Time{Time: start}
	}
	if p.resumeFrom == 0 {
		st.Steps = nil
		st.Stdout, st.Stderr, st.ExitCode = "", "", nil
	} else {
		st.Steps = st.Steps[:p.resumeFrom]
	}
	if p.resumeFrom < len(task.Spec.Steps) {
		st.Steps = append(st.Steps, runningStep(task.Spec.Steps[p.resumeFrom], p.attempt, now))
	}
	st.CompletionTime, st.Duration = nil, ""
	st.PodName = p.podName
	if st.SandboxUID == "" {
		st.SandboxUID = p.sandboxUID
	}
	st.Reason = arlv1.TaskReasonRunning
	st.Message = fmt.Sprintf("attempt %d of %d running in pod %s", p.attempt, p.maxAttempts, p.podName)
	st.ObservedGeneration = task.Generation
	setConditions(&st, task.Generation)
	return st
}

func runningStep(step arlv1.TaskStep, attempt int32, now time.Time) arlv1.StepStatus {
	return arlv1.StepStatus{
		Name:      step.Name,
		Type:      step.Type,
		State:     arlv1.StepStateRunning,
		Attempt:   attempt,
		StartTime: &metav1.Time{Time: now},
	}
}

// finishedStatus applies an attempt's outcome to the status that holds its
// claim. On verdictRetry the task stays Running with the failed attempt's
// results until the worker claims the next attempt.
func finishedStatus(task *arlv1.Task, p plan, out attemptOutcome, outputLimit int, now time.Time) (arlv1.TaskStatus, verdict) {
	st := *task.Status.DeepCopy()
	st.Steps = st.Steps[:min(p.resumeFrom, len(st.Steps))]
	stdout, stderr := newOutputJoiner(outputLimit), newOutputJoiner(outputLimit)
	if p.resumeFrom > 0 {
		stdout.add("", st.Stdout, false)
		stderr.add("", st.Stderr, false)
	}
	for _, s := range out.steps {
		st.Steps = append(st.Steps, s.status)
		stdout.add(s.status.Name, s.stdout, s.stdoutCut)
		stderr.add(s.status.Name, s.stderr, s.stderrCut)
	}
	st.Stdout, st.Stderr = stdout.String(), stderr.String()
	if n := len(st.Steps); n > 0 && st.Steps[n-1].ExitCode != nil {
		code := *st.Steps[n-1].ExitCode
		st.ExitCode = &code
	}
	st.ObservedGeneration = task.Generation

	failed := out.failed()
	switch {
	case out.paused:
		next := task.Spec.Steps[len(st.Steps)].Name
		st.Reason = arlv1.TaskReasonPaused
		st.Message = fmt.Sprintf("the operator stopped after step %q of attempt %d; the next operator resumes at step %q", st.Steps[len(st.Steps)-1].Name, p.attempt, next)
		setConditions(&st, task.Generation)
		return st, verdictPaused
	case failed == nil:
		st.State = arlv1.TaskStateSucceeded
		st.Reason = arlv1.TaskReasonSucceeded
		st.Message = fmt.Sprintf("%d step(s) succeeded in attempt %d", len(st.Steps), p.attempt)
		finish(&st, task, p, now)
		return st, verdictSucceeded
	}

	for _, step := range task.Spec.Steps[len(st.Steps):] {
		st.Steps = append(st.Steps, arlv1.StepStatus{Name: step.Name, Type: step.Type, State: arlv1.StepStateSkipped, Attempt: p.attempt})
	}
	failure := failureMessage(failed, p)
	if p.attempt < p.maxAttempts && failed.failReason != arlv1.TaskReasonStepResultLost {
		// The next attempt is claimed by its own write, so an operator that
		// stops in between finds no step marked Running and starts it anew.
		st.Reason = arlv1.TaskReasonRetrying
		st.Message = truncateMessage(fmt.Sprintf("%s; attempt %d of %d starts next", failure, p.attempt+1, p.maxAttempts))
		setConditions(&st, task.Generation)
		return st, verdictRetry
	}
	st.State = arlv1.TaskStateFailed
	st.Reason = failed.failReason
	st.Message = truncateMessage(failure)
	finish(&st, task, p, now)
	return st, verdictFailed
}

func failureMessage(failed *stepOutcome, p plan) string {
	s := failed.status
	var what string
	switch {
	case failed.failReason == arlv1.TaskReasonTimeout:
		what = fmt.Sprintf("step %q timed out", s.Name)
	case failed.failReason == arlv1.TaskReasonSidecarError:
		what = fmt.Sprintf("step %q could not run: %s", s.Name, s.Message)
	case failed.failReason == arlv1.TaskReasonStepResultLost:
		what = fmt.Sprintf("step %q: %s", s.Name, s.Message)
	case s.ExitCode != nil:
		what = fmt.Sprintf("step %q exited with code %d", s.Name, *s.ExitCode)
	default:
		what = fmt.Sprintf("step %q failed: %s", s.Name, s.Message)
	}
	return fmt.Sprintf("attempt %d of %d failed: %s", p.attempt, p.maxAttempts, what)
}

// finish sets what every terminal status has.
func finish(st *arlv1.TaskStatus, task *arlv1.Task, p plan, now time.Time) {
	st.CompletionTime = &metav1.Time{Time: now}
	start := p.taskStart
	if start.IsZero() && st.StartTime != nil {
		start = st.StartTime.Time
	}
	if !start.IsZero() {
		st.Duration = formatDuration(now.Sub(start))
	}
	setConditions(st, task.Generation)
}

// interruptedStatus fails a task whose attempt was cut off by an operator
// stop; nothing is run again.
func interruptedStatus(task *arlv1.Task, message string, now time.Time) arlv1.TaskStatus {
	st := *task.Status.DeepCopy()
	for i := range st.Steps {
		if st.Steps[i].State == arlv1.StepStateRunning {
			st.Steps[i].State = arlv1.StepStateFailed
			st.Steps[i].Message = "interrupted by an operator stop; may have run; not run again"
		}
	}
	st.State = arlv1.TaskStateFailed
	st.Reason = arlv1.TaskReasonOperatorRestarted
	st.Message = message
	st.ObservedGeneration = task.Generation
	finish(&st, task, plan{}, now)
	return st
}

// failedBeforeRunningStatus fails a task without running it (its sandbox failed).
func failedBeforeRunningStatus(task *arlv1.Task, reason, message string, now time.Time) arlv1.TaskStatus {
	st := *task.Status.DeepCopy()
	st.State = arlv1.TaskStateFailed
	st.Reason = reason
	st.Message = message
	st.ObservedGeneration = task.Generation
	finish(&st, task, plan{}, now)
	return st
}

// formatDuration prints whole milliseconds ("12ms", "1.5s"), or
// microseconds under a millisecond.
func formatDuration(d time.Duration) string {
	if d < time.Millisecond {
		return d.Round(time.Microsecond).String()
	}
	return d.Round(time.Millisecond).String()
}

func truncateMessage(s string) string {
	if len(s) <= maxMessageBytes {
		return s
	}
	return cutAtRuneBoundary(s, maxMessageBytes) + "..."
}
