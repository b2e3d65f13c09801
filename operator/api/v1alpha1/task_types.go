package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// StepType is the kind of a Task step.
// +kubebuilder:validation:Enum=FilePatch;Command
type StepType string

const (
	// StepTypeFilePatch writes content to path (creating parent directories).
	StepTypeFilePatch StepType = "FilePatch"
	// StepTypeCommand runs command (an argv array) in workDir with env.
	StepTypeCommand StepType = "Command"
)

// TaskState is the coarse state of a Task.
// +kubebuilder:validation:Enum=Pending;Running;Succeeded;Failed
type TaskState string

const (
	// TaskStatePending: waiting for its sandbox to be Ready.
	TaskStatePending TaskState = "Pending"
	// TaskStateRunning: an attempt is running.
	TaskStateRunning TaskState = "Running"
	// TaskStateSucceeded: every step exited 0. Terminal.
	TaskStateSucceeded TaskState = "Succeeded"
	// TaskStateFailed: a step failed in the last allowed attempt, or the
	// attempt timed out, or the sandbox failed. Terminal.
	TaskStateFailed TaskState = "Failed"
)

// StepState is the state of one step of a Task.
// +kubebuilder:validation:Enum=Pending;Running;Succeeded;Failed;Skipped
type StepState string

const (
	StepStatePending   StepState = "Pending"
	StepStateRunning   StepState = "Running"
	StepStateSucceeded StepState = "Succeeded"
	StepStateFailed    StepState = "Failed"
	// StepStateSkipped: an earlier step failed, so this one did not run.
	StepStateSkipped StepState = "Skipped"
)

// TaskStep is one step of a Task. Its rules are all here, as CEL on the
// schema: Tasks have no admission webhook.
// +kubebuilder:validation:XValidation:rule="self.type != 'FilePatch' || has(self.path)",message="a FilePatch step needs the path of the file to write",fieldPath=".path",reason=FieldValueRequired
// +kubebuilder:validation:XValidation:rule="self.type != 'FilePatch' || !has(self.command) || size(self.command) == 0",message="a FilePatch step writes a file and runs nothing: move the command to a Command step",fieldPath=".command",reason=FieldValueForbidden
// +kubebuilder:validation:XValidation:rule="self.type != 'FilePatch' || !has(self.workDir) || size(self.workDir) == 0",message="workDir applies to Command steps only",fieldPath=".workDir",reason=FieldValueForbidden
// +kubebuilder:validation:XValidation:rule="self.type != 'FilePatch' || !has(self.env) || size(self.env) == 0",message="env applies to Command steps only",fieldPath=".env",reason=FieldValueForbidden
// +kubebuilder:validation:XValidation:rule="self.type != 'Command' || (has(self.command) && size(self.command) > 0)",message="a Command step needs an argv array, e.g. [\"python\", \"app.py\"]",fieldPath=".command",reason=FieldValueRequired
// +kubebuilder:validation:XValidation:rule="self.type != 'Command' || !has(self.content) || size(self.content) == 0",message="content belongs to FilePatch steps: write the file in a FilePatch step first",fieldPath=".content",reason=FieldValueForbidden
// +kubebuilder:validation:XValidation:rule="self.type != 'Command' || !has(self.path) || size(self.path) == 0",message="path belongs to FilePatch steps; a Command step uses workDir",fieldPath=".path",reason=FieldValueForbidden
type TaskStep struct {
	// name identifies the step in status.steps; unique within the task.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Name string `json:"name"`

	// type is FilePatch (write content to path) or Command (run command).
	// +required
	Type StepType `json:"type"`

	// path is the absolute path of the file a FilePatch step writes; it must
	// lie inside /workspace, without ".." segments (the sidecar refuses them).
	// +optional
	// +kubebuilder:validation:MaxLength=4096
	// +kubebuilder:validation:XValidation:rule="self.startsWith('/')",message="must be an absolute path inside /workspace, e.g. /workspace/app.py"
	// +kubebuilder:validation:XValidation:rule="!self.startsWith('/') || self.startsWith('/workspace/')",message="must stay inside /workspace, e.g. /workspace/app.py"
	// +kubebuilder:validation:XValidation:rule="!self.contains('/../') && !self.endsWith('/..')",message="must not contain '..' segments: name the file by its path inside /workspace"
	// +kubebuilder:validation:XValidation:rule="!self.endsWith('/')",message="must name a file inside /workspace, not a directory"
	// +kubebuilder:validation:XValidation:rule="!self.matches('^/workspace(/+[.])*/*$')",message="must name a file inside /workspace, not the directory itself"
	Path string `json:"path,omitempty"`

	// content is what a FilePatch step writes to path.
	// +optional
	// +kubebuilder:validation:MaxLength=1048576
	Content string `json:"content,omitempty"`

	// command is the argv of a Command step (no shell: use
	// ["bash", "-c", "..."] for one).
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=1024
	// +kubebuilder:validation:XValidation:rule="size(self) == 0 || size(self[0]) > 0",message="the program name (command[0]) must not be empty"
	Command []string `json:"command,omitempty"`

	// workDir is the absolute working directory of a Command step; default
	// /workspace.
	// +optional
	// +kubebuilder:validation:MaxLength=4096
	// +kubebuilder:validation:XValidation:rule="size(self) == 0 || self.startsWith('/')",message="must be an absolute path, e.g. /workspace"
	WorkDir string `json:"workDir,omitempty"`

	// env is extra environment variables of a Command step.
	// +optional
	// +kubebuilder:validation:MaxProperties=1024
	// +kubebuilder:validation:XValidation:rule="self.all(name, size(name) > 0 && !name.contains('=') && !name.contains('\\u0000'))",message="an environment variable name must be non-empty and contain no '=' or NUL"
	Env map[string]string `json:"env,omitempty"`
}

// TaskSpec is the desired state of a Task. It is immutable: apply a Task
// under a new name to run something else.
type TaskSpec struct {
	// sandboxRef is the name of the Sandbox (same namespace) the task runs
	// in. A task whose sandbox does not exist yet, or is not Ready, stays
	// Pending until it is.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	SandboxRef string `json:"sandboxRef"`

	// timeout bounds each attempt (all its steps), e.g. "30s", "2m"; at most
	// 24h.
	// +optional
	// +kubebuilder:default="30s"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="self.matches('^[-+]?(0|(([0-9]+([.][0-9]*)?|[.][0-9]+)(ns|us|µs|μs|ms|s|m|h))+)$')",message="must be a duration such as 30s, 2m or 1h30m"
	// +kubebuilder:validation:XValidation:rule="!self.matches('^[-+]?(0|(([0-9]+([.][0-9]*)?|[.][0-9]+)(ns|us|µs|μs|ms|s|m|h))+)$') || duration(self) > duration('0s')",message="must be positive, e.g. 30s"
	// +kubebuilder:validation:XValidation:rule="!self.matches('^[-+]?(0|(([0-9]+([.][0-9]*)?|[.][0-9]+)(ns|us|µs|μs|ms|s|m|h))+)$') || duration(self) <= duration('24h')",message="must be at most 24h"
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// retries is how many times a failed attempt is run again (0 to 10).
	// +optional
	// +kubebuilder:default=0
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=10
	Retries int32 `json:"retries,omitempty"`

	// ttlSecondsAfterFinished deletes the task this many seconds after it
	// succeeded or failed. Unset: kept until deleted.
	// +optional
	// +kubebuilder:validation:Minimum=0
	TTLSecondsAfterFinished *int32 `json:"ttlSecondsAfterFinished,omitempty"`

	// steps run in order; the first failing step (non-zero exit code) stops
	// the attempt and the later steps do not run. Step names are unique.
	// +required
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=100
	Steps []TaskStep `json:"steps"`
}

// StepStatus is the result of one step in the latest attempt.
type StepStatus struct {
	// name is the step's name.
	// +required
	Name string `json:"name"`

	// type is the step's type.
	// +optional
	Type StepType `json:"type,omitempty"`

	// state is Pending, Running, Succeeded, Failed or Skipped.
	// +optional
	State StepState `json:"state,omitempty"`

	// attempt is the attempt (1-based) this result belongs to.
	// +optional
	Attempt int32 `json:"attempt,omitempty"`

	// exitCode is the exit code of a Command step (0 for a written file).
	// +optional
	ExitCode *int32 `json:"exitCode,omitempty"`

	// startTime is when the step started.
	// +optional
	// +kubebuilder:validation:Format=date-time
	StartTime *metav1.Time `json:"startTime,omitempty"`

	// completionTime is when the step ended.
	// +optional
	// +kubebuilder:validation:Format=date-time
	CompletionTime *metav1.Time `json:"completionTime,omitempty"`

	// duration is how long the step ran, e.g. "12ms".
	// +optional
	Duration string `json:"duration,omitempty"`

	// stdoutBytes and stderrBytes are the full sizes of the step's output,
	// before any truncation in status.stdout / status.stderr.
	// +optional
	StdoutBytes int64 `json:"stdoutBytes,omitempty"`
	// +optional
	StderrBytes int64 `json:"stderrBytes,omitempty"`

	// message explains a failure (for example a timeout or a sidecar error).
	// +optional
	Message string `json:"message,omitempty"`
}

// TaskStatus is the observed state of a Task.
type TaskStatus struct {
	// state is Pending, Running, Succeeded or Failed.
	// +optional
	State TaskState `json:"state,omitempty"`

	// exitCode is the exit code of the failing step, or of the last step.
	// +optional
	ExitCode *int32 `json:"exitCode,omitempty"`

	// stdout is the standard output of the Command steps of the latest
	// attempt, in step order, concatenated as they were written. Capped, with
	// a truncation marker when cut.
	// +optional
	Stdout string `json:"stdout,omitempty"`

	// stderr is the standard error of those steps, joined the same way.
	// +optional
	Stderr string `json:"stderr,omitempty"`

	// startTime is when the first attempt started.
	// +optional
	// +kubebuilder:validation:Format=date-time
	StartTime *metav1.Time `json:"startTime,omitempty"`

	// completionTime is when the task succeeded or failed.
	// +optional
	// +kubebuilder:validation:Format=date-time
	CompletionTime *metav1.Time `json:"completionTime,omitempty"`

	// duration is how long the task ran, e.g. "12ms".
	// +optional
	Duration string `json:"duration,omitempty"`

	// attempts is the number of attempts started; it is recorded before an
	// attempt runs, so an attempt is never run twice.
	// +optional
	Attempts int32 `json:"attempts,omitempty"`

	// steps are the per-step results of the latest attempt.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=100
	Steps []StepStatus `json:"steps,omitempty"`

	// reason is a CamelCase word for the current state (e.g. SandboxNotReady,
	// StepFailed, Timeout).
	// +optional
	Reason string `json:"reason,omitempty"`

	// message is a human-readable explanation of the current state.
	// +optional
	Message string `json:"message,omitempty"`

	// podName is the pod the task ran in.
	// +optional
	PodName string `json:"podName,omitempty"`

	// sandboxUID is the uid of the Sandbox the task's first attempt was
	// dispatched to. From then on the task runs only in that sandbox: a
	// Sandbox deleted and created again under the same name is another
	// sandbox, and the task fails with reason SandboxReplaced instead of
	// sending it any step.
	// +optional
	SandboxUID types.UID `json:"sandboxUID,omitempty"`

	// observedGeneration is the generation of the spec this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// conditions: Complete (True once the task succeeded) and Failed (True
	// once it failed), as a Job's; both False until then, with the
	// current reason: kubectl wait --for=condition=Complete waits for
	// success, --for=condition=Failed for failure.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=8
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// Task condition types and reasons.
const (
	// TaskConditionComplete is True once the task succeeded (as a Job's
	// Complete condition), False before and when it failed.
	TaskConditionComplete = "Complete"
	// TaskConditionFailed is True once the task failed (as a Job's Failed
	// condition), False before and when it succeeded.
	TaskConditionFailed = "Failed"

	TaskReasonSandboxNotFound = "SandboxNotFound"
	TaskReasonSandboxNotReady = "SandboxNotReady"
	TaskReasonSandboxFailed   = "SandboxFailed"
	TaskReasonRunning         = "Running"
	TaskReasonSucceeded       = "Succeeded"
	TaskReasonStepFailed      = "StepFailed"
	TaskReasonTimeout         = "Timeout"
	TaskReasonSidecarError    = "SidecarError"
	TaskReasonRetrying        = "Retrying"
	// TaskReasonOperatorRestarted: an attempt was recorded as running in an
	// operator that stopped without recording its end (crash, kill, lost
	// lease). Its in-flight step may have run, so it is never run again and
	// the task fails, even when retries remain.
	TaskReasonOperatorRestarted = "OperatorRestarted"
	// TaskReasonPaused: the operator stopped gracefully between two steps;
	// the next operator resumes the same attempt at the next step.
	TaskReasonPaused = "Paused"
	// TaskReasonStepResultLost: the sidecar ran the step for an earlier
	// operator and no longer keeps its result (its idempotency key outlived
	// the retention). The step may have done anything, so the task fails
	// and is not retried.
	TaskReasonStepResultLost = "StepResultLost"
	// TaskReasonSandboxReplaced: the task was dispatched to a sandbox
	// (status.sandboxUID) that no longer exists; a Sandbox of the same name
	// is another one, and never receives this task's steps.
	TaskReasonSandboxReplaced = "SandboxReplaced"
	// TaskReasonSandboxPodMismatch: the sandbox's status names a pod (or an
	// IP) that is not the sandbox's own: the pod is missing, controlled by
	// something else, or has another IP. No step, and no token, is sent.
	TaskReasonSandboxPodMismatch = "SandboxPodMismatch"
	// TaskReasonTokenSecretUntrusted: the Secret named like the sandbox's
	// pod is not the token Secret the operator made for that pod (not
	// controlled by the pod's WarmPool, or not the one the pod was created
	// with). Its content is never sent anywhere.
	TaskReasonTokenSecretUntrusted = "TokenSecretUntrusted"
)

// Task event reasons.
const (
	EventReasonTaskPending   = "Pending"
	EventReasonTaskStarted   = "Started"
	EventReasonTaskRetrying  = "Retrying"
	EventReasonTaskSucceeded = "Succeeded"
	EventReasonTaskFailed    = "Failed"
	// EventReasonTaskStepFailed: a step exited non-zero or the sidecar failed it.
	EventReasonTaskStepFailed = "StepFailed"
	// EventReasonTaskResumed: a paused attempt continues.
	EventReasonTaskResumed = "Resumed"
)

// Task runs steps (write a file, run a command) in a Sandbox and records
// their output.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:categories=arl
// +kubebuilder:storageversion
// +kubebuilder:printcolumn:name="State",type=string,JSONPath=`.status.state`
// +kubebuilder:printcolumn:name="ExitCode",type=integer,JSONPath=`.status.exitCode`
// +kubebuilder:printcolumn:name="Sandbox",type=string,JSONPath=`.spec.sandboxRef`,priority=1
// +kubebuilder:printcolumn:name="Attempts",type=integer,JSONPath=`.status.attempts`,priority=1
// +kubebuilder:printcolumn:name="Duration",type=string,JSONPath=`.status.duration`,priority=1
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.reason`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Task struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is what to run and where. Immutable.
	// +required
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec is immutable; create a new Task instead"
	Spec TaskSpec `json:"spec"`

	// status is the outcome of the task.
	// +optional
	Status TaskStatus `json:"status,omitempty"`
}

// TaskList is a list of Tasks.
//
// +kubebuilder:object:root=true
type TaskList struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Task `json:"items"`
}

// IsFinished reports whether the task reached a terminal state.
func (t *Task) IsFinished() bool {
	return t.Status.State == TaskStateSucceeded || t.Status.State == TaskStateFailed
}

// DispatchedElsewhere reports whether the task was dispatched to a sandbox
// other than the one with uid sandboxUID (an earlier sandbox of the same
// name): it belongs to that one, never to this.
func (t *Task) DispatchedElsewhere(sandboxUID types.UID) bool {
	return t.Status.SandboxUID != "" && t.Status.SandboxUID != sandboxUID
}

func init() {
	SchemeBuilder.Register(addKinds(&Task{}, &TaskList{}))
}
