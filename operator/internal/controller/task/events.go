package task

import (
	corev1 "k8s.io/api/core/v1"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

// eventStarted tells that an attempt started (or resumed); only attempts
// still running after startedEventDelay get it.
func (d *dispatcher) eventStarted(task *arlv1.Task, p plan) {
	if d.recorder == nil {
		return
	}
	if p.resumeFrom > 0 {
		d.recorder.Eventf(task, nil, corev1.EventTypeNormal, arlv1.EventReasonTaskResumed, "Run",
			"attempt %d of %d resumed at step %q in pod %s", p.attempt, p.maxAttempts, task.Spec.Steps[min(p.resumeFrom, len(task.Spec.Steps)-1)].Name, p.podName)
		return
	}
	d.recorder.Eventf(task, nil, corev1.EventTypeNormal, arlv1.EventReasonTaskStarted, "Run",
		"attempt %d of %d started in pod %s", p.attempt, p.maxAttempts, p.podName)
}

// eventOutcome tells what a recorded attempt did.
func (d *dispatcher) eventOutcome(task *arlv1.Task, p plan, out attemptOutcome, v verdict) {
	if d.recorder == nil {
		return
	}
	if f := out.failed(); f != nil {
		d.recorder.Eventf(task, nil, corev1.EventTypeWarning, arlv1.EventReasonTaskStepFailed, "Run", "%s", truncateMessage(failureMessage(f, p)))
	}
	switch v {
	case verdictSucceeded:
		if !d.opts.SucceededEvents {
			return
		}
		d.recorder.Eventf(task, nil, corev1.EventTypeNormal, arlv1.EventReasonTaskSucceeded, "Run", "%s in pod %s; took %s", task.Status.Message, p.podName, task.Status.Duration)
	case verdictFailed:
		d.recorder.Eventf(task, nil, corev1.EventTypeWarning, arlv1.EventReasonTaskFailed, "Run", "%s (pod %s)", task.Status.Message, p.podName)
	case verdictRetry:
		d.recorder.Eventf(task, nil, corev1.EventTypeWarning, arlv1.EventReasonTaskRetrying, "Run", "%s", task.Status.Message)
	case verdictPaused:
		d.recorder.Eventf(task, nil, corev1.EventTypeNormal, arlv1.TaskReasonPaused, "Run", "%s", task.Status.Message)
	}
}
