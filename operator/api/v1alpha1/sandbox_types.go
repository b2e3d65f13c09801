package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// SandboxPhase is the coarse state of a Sandbox.
// +kubebuilder:validation:Enum=Pending;Bound;Ready;Failed
type SandboxPhase string

const (
	// SandboxPhasePending: no pod yet (the pool has no idle Ready pod, or the
	// pool does not exist); see the Ready condition's reason.
	SandboxPhasePending SandboxPhase = "Pending"
	// SandboxPhaseBound: a pod is allocated but not Ready.
	SandboxPhaseBound SandboxPhase = "Bound"
	// SandboxPhaseReady: the pod is Ready (its sidecar answers /health); tasks run.
	SandboxPhaseReady SandboxPhase = "Ready"
	// SandboxPhaseFailed: the allocated pod failed or disappeared. Terminal.
	SandboxPhaseFailed SandboxPhase = "Failed"
)

// SandboxSpec is the desired state of a Sandbox.
type SandboxSpec struct {
	// poolRef is the name of the WarmPool (in the same namespace) the sandbox
	// takes its pod from. Immutable.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')",message="must be a WarmPool name: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit"
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="poolRef is immutable: delete the sandbox and create a new one on the other pool"
	PoolRef string `json:"poolRef"`

	// keepAlive keeps the sandbox for several tasks. When false (the
	// default) the sandbox is one-shot: it is deleted once a task that ran in
	// it has finished.
	// +optional
	// +kubebuilder:default=false
	KeepAlive bool `json:"keepAlive,omitempty"`

	// idleTimeoutSeconds deletes the sandbox after this many seconds without
	// a running task (counted from its last task's start or completion, or
	// from allocation when no task ran; status.lastTaskTime can lag that by
	// a few seconds, the count does not). Unset: never.
	// +optional
	// +kubebuilder:validation:Minimum=1
	IdleTimeoutSeconds *int32 `json:"idleTimeoutSeconds,omitempty"`

	// taskConcurrency is Parallel (a sandbox's tasks run at the same time)
	// or Serial (one at a time, in creation order: each task sees the
	// effects of the tasks created before it). Unset: the pool's
	// taskConcurrency, else Parallel.
	// +optional
	TaskConcurrency TaskConcurrency `json:"taskConcurrency,omitempty"`
}

// SandboxStatus is the observed state of a Sandbox.
type SandboxStatus struct {
	// phase is Pending, Bound, Ready or Failed.
	// +optional
	Phase SandboxPhase `json:"phase,omitempty"`

	// podName is the pod allocated to the sandbox. Its sidecar token is in
	// the Secret of the same name, key "token".
	// +optional
	PodName string `json:"podName,omitempty"`

	// podIP is the IP of the allocated pod (sidecar on :8080 and :50051).
	// +optional
	PodIP string `json:"podIP,omitempty"`

	// workDir is the working directory shared by the sandbox's tasks.
	// +optional
	WorkDir string `json:"workDir,omitempty"`

	// allocationTime is when the pod was allocated.
	// +optional
	// +kubebuilder:validation:Format=date-time
	AllocationTime *metav1.Time `json:"allocationTime,omitempty"`

	// lastTaskTime is the latest start or completion time of the tasks that
	// ran in this sandbox. For a keepAlive sandbox the operator writes it at
	// most once per --last-task-time-interval (10s by default, at most a
	// tenth of idleTimeoutSeconds), so it can lag the latest task by that
	// long; the latest time is always written in the end. The idle timeout
	// does not wait for it: the operator counts its own record of the
	// sandbox's task times.
	// +optional
	// +kubebuilder:validation:Format=date-time
	LastTaskTime *metav1.Time `json:"lastTaskTime,omitempty"`

	// observedGeneration is the generation of the spec this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// conditions: Ready says whether tasks can run, and why not.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=8
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// Sandbox condition types and reasons.
const (
	// SandboxConditionReady is True when the allocated pod is Ready.
	SandboxConditionReady = "Ready"

	// SandboxReasonWaitingForPool: the pool has no idle Ready pod yet.
	SandboxReasonWaitingForPool = "WaitingForPool"
	// SandboxReasonPoolNotFound: spec.poolRef names no WarmPool.
	SandboxReasonPoolNotFound = "PoolNotFound"
	// SandboxReasonPodAllocated: a pod is bound; it is not Ready yet.
	SandboxReasonPodAllocated = "PodAllocated"
	// SandboxReasonSidecarReady: the pod is Ready and its sidecar answers.
	SandboxReasonSidecarReady = "SidecarReady"
	// SandboxReasonPodLost: the allocated pod was deleted.
	SandboxReasonPodLost = "PodLost"
	// SandboxReasonPodFailed: the allocated pod failed.
	SandboxReasonPodFailed = "PodFailed"
)

// Sandbox event reasons.
const (
	EventReasonAllocated      = "Allocated"
	EventReasonWaitingForPool = "WaitingForPool"
	EventReasonPoolNotFound   = "PoolNotFound"
	EventReasonSandboxReady   = "Ready"
	EventReasonPodLost        = "PodLost"
	EventReasonPodFailed      = "PodFailed"
	// EventReasonOneShotDone: the TTL controller deleted a one-shot
	// sandbox (keepAlive: false) whose task finished.
	EventReasonOneShotDone = "OneShotDone"
	// EventReasonIdleTimeout: the TTL controller deleted a sandbox idle
	// past its idleTimeoutSeconds.
	EventReasonIdleTimeout = "IdleTimeout"
	// EventReasonDeleteFailed: the TTL controller could not delete a
	// sandbox it judged done.
	EventReasonDeleteFailed = "DeleteFailed"
)

// Sandbox is one pod taken from a WarmPool: a workspace where Tasks run.
// Deleting it deletes its pod; the pool replaces it with a fresh one, so no
// file or process of one sandbox ever reaches another.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=sb,categories=arl
// +kubebuilder:storageversion
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Pod",type=string,JSONPath=`.status.podName`
// +kubebuilder:printcolumn:name="IP",type=string,JSONPath=`.status.podIP`
// +kubebuilder:printcolumn:name="Pool",type=string,JSONPath=`.spec.poolRef`,priority=1
// +kubebuilder:printcolumn:name="KeepAlive",type=boolean,JSONPath=`.spec.keepAlive`,priority=1
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:validation:XValidation:rule="size(self.metadata.name) <= 63",message="metadata.name must be no more than 63 characters: the sandbox's pod carries it in the label arl.infra.io/sandbox"
type Sandbox struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the desired state of the sandbox.
	// +required
	Spec SandboxSpec `json:"spec"`

	// status is the observed state of the sandbox.
	// +optional
	Status SandboxStatus `json:"status,omitempty"`
}

// SandboxList is a list of Sandboxes.
//
// +kubebuilder:object:root=true
type SandboxList struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Sandbox `json:"items"`
}

func init() {
	SchemeBuilder.Register(addKinds(&Sandbox{}, &SandboxList{}))
}
