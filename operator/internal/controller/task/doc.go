// Package task is the Task controller: it runs a Task's steps in its
// Sandbox's pod through the pod's sidecar (FilePatch → WriteFiles, Command →
// Execute, over gRPC) and records the outcome in the Task's status.
//
// # Shape
//
// The reconcile only decides (decide.go, a pure function of the Task and
// its Sandbox from the informer cache) and dispatches; a bounded pool of
// workers (dispatcher.go, Options.MaxConcurrentTasks) runs the steps and
// writes status, so a long task holds one worker and never a reconcile.
// Tasks wait for their Sandbox through a watch on Sandboxes mapped to Tasks
// by the spec.sandboxRef field index: no polling.
//
// # Never run a step twice
//
// Every step is sent with an idempotency key, task/<uid>/<attempt>/<step>:
// the sidecar records the key before it runs the step and answers any
// repeat of it (while it runs, or up to ten minutes after) with the first
// run's result, without running anything (sidecar package idempotency). So
// a step re-sent after a status-write conflict, a stale cache or an
// operator restart runs once.
//
// A worker starts an attempt's steps at once. When they outlive
// Options.ClaimDelay (100ms) it records the attempt meanwhile with one
// optimistic-lock status write: state Running, attempts=N, the step about
// to run marked Running. After the steps, one more write records the
// outcome; a quicker attempt is recorded by that write alone, so a short
// task costs one status write. A conflict on either write re-reads the
// task and writes again only while the live task still is where the
// attempt started (or carries its claim); otherwise another writer holds
// the attempt, and the steps it sent under the same keys ran once.
//
// When the operator stops gracefully (SIGTERM, manager shutdown) a running
// step is not cancelled: it runs to its end, and the worker records the
// steps done so far with reason Paused before exiting. The next operator
// resumes the same attempt at the next step.
//
// When the operator stops abruptly (crash, kill, lost lease) before an
// attempt's claim was written, the task still shows where the attempt
// started: the next operator sends the same keys and records the first
// run's results. A sidecar that ran a step but no longer keeps its result
// (retention passed) refuses the repeat; the task fails with reason
// StepResultLost and is not retried. After the claim was written, the task is left Running
// with a step marked Running that no worker of the new operator holds. That
// step may have run (and the sidecar may have forgotten it), so the new
// operator fails the task with reason OperatorRestarted, even when retries
// remain: retries are for failures whose outcome is known, and running the
// step again is exactly what must not happen.
//
// # Attempts, timeouts and results
//
// Steps run in order; the first that exits non-zero, times out or cannot
// run stops the attempt and the later steps are recorded as Skipped.
// spec.timeout bounds each attempt (Options.DefaultTimeout when unset); the
// sidecar kills the step's process group when it passes. spec.retries runs
// the whole task again, up to that many more times; status.attempts counts.
// status.exitCode is the failing step's, or the last step's; a step with no
// exit code (the sidecar refused or could not run it, or did not answer
// before the deadline) reports NoExitCode (-1) and reason SidecarError or
// Timeout, with the error in stderr. status.stdout and status.stderr join
// the Command steps' outputs as described on outputJoiner, capped at
// Options.OutputLimitBytes each with a truncation marker.
//
// # Events
//
// Pending (when the reason to wait changes), Started (only for an attempt
// still running after startedEventDelay: a quicker one is told by its
// outcome event, which names the attempt and the pod, sparing an Event
// write per task), StepFailed, Retrying, Succeeded, Failed, Paused and
// Resumed.
package task
