package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// SidecarAuth says whether the sidecar of a pool's pods demands a token.
// +kubebuilder:validation:Enum=Token;None
type SidecarAuth string

const (
	// SidecarAuthToken gives every pod its own token (a Secret named like the
	// pod); the sidecar rejects calls without it. The default.
	SidecarAuthToken SidecarAuth = "Token"
	// SidecarAuthNone serves the sidecar API without authentication; only for
	// trusted, single-tenant clusters.
	SidecarAuthNone SidecarAuth = "None"
)

// WarmPoolSpec is the desired state of a WarmPool.
type WarmPoolSpec struct {
	// replicas is the number of idle, Ready pods the pool keeps. Pods taken by
	// a Sandbox do not count: the pool creates new ones to refill.
	// +optional
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1000
	Replicas *int32 `json:"replicas,omitempty"`

	// template is the pod template of the pool's pods. It must have a
	// container named "executor" (the user's code runs there). The operator
	// adds the "sidecar" container, the "arl-install" init container, the
	// "arl-tools" and "arl-run" volumes, a "workspace" volume mounted at
	// /workspace when the template has none (a workspace emptyDir without a
	// sizeLimit gets the operator's --workspace-size-limit), and its labels.
	// Changing it replaces idle pods, never allocated ones.
	// +required
	// +kubebuilder:validation:Type=object
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:pruning:PreserveUnknownFields
	Template corev1.PodTemplateSpec `json:"template"`

	// sidecarAuth is Token (default: each pod's sidecar requires the token
	// stored in the Secret named like the pod, key "token") or None (no
	// authentication; for trusted single-tenant clusters only).
	// +optional
	// +kubebuilder:default=Token
	SidecarAuth SidecarAuth `json:"sidecarAuth,omitempty"`

	// taskConcurrency is the default of the pool's sandboxes'
	// spec.taskConcurrency: Parallel or Serial. Unset: Parallel.
	// +optional
	TaskConcurrency TaskConcurrency `json:"taskConcurrency,omitempty"`

	// injected overrides what the operator sets on the containers it adds
	// to every pod (the "sidecar" container and the "arl-install" init
	// container). Unset: the hardened defaults (docs/security.md).
	// +optional
	Injected *InjectedContainers `json:"injected,omitempty"`
}

// InjectedContainers overrides the settings of the containers the operator
// adds to a pool's pods.
type InjectedContainers struct {
	// securityContext replaces, as a whole, the default securityContext of
	// the injected containers: every capability dropped, no privilege
	// escalation, a read-only root filesystem, the RuntimeDefault seccomp
	// profile, and the executor's runAsUser/runAsGroup when the template
	// sets them (non-root when that user is). Privileged settings are
	// refused: the injected containers never need them.
	// +optional
	SecurityContext *corev1.SecurityContext `json:"securityContext,omitempty"`

	// resources replaces the operator's --sidecar-resources (the chart's
	// sidecar.resources) for the injected containers of this pool.
	// +optional
	Resources *corev1.ResourceRequirements `json:"resources,omitempty"`
}

// WarmPoolStatus is the observed state of a WarmPool.
type WarmPoolStatus struct {
	// replicas is the number of idle pods (Ready or starting), not counting
	// pods being deleted.
	// +optional
	Replicas int32 `json:"replicas"`

	// readyReplicas is the number of idle pods that are Ready to be allocated.
	// +optional
	ReadyReplicas int32 `json:"readyReplicas"`

	// allocatedReplicas is the number of pods currently bound to a Sandbox.
	// +optional
	AllocatedReplicas int32 `json:"allocatedReplicas"`

	// selector is the label selector of the pool's pods, for the scale
	// subresource.
	// +optional
	Selector string `json:"selector,omitempty"`

	// observedGeneration is the generation of the spec this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// conditions: Ready is True when readyReplicas reaches spec.replicas.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=8
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// WarmPool condition types and reasons.
const (
	// WarmPoolConditionReady is True when the pool has spec.replicas idle Ready pods.
	WarmPoolConditionReady = "Ready"

	// WarmPoolReasonPoolReady: every wanted idle pod is Ready.
	WarmPoolReasonPoolReady = "PoolReady"
	// WarmPoolReasonScaling: pods are being created, started or replaced.
	WarmPoolReasonScaling = "Scaling"
	// WarmPoolReasonPodCreateFailed: the API server refused a pod or its Secret.
	WarmPoolReasonPodCreateFailed = "PodCreateFailed"
	// WarmPoolReasonInvalidTemplate: the template cannot produce a pod.
	WarmPoolReasonInvalidTemplate = "InvalidTemplate"
)

// WarmPool event reasons.
const (
	EventReasonPodCreated      = "PodCreated"
	EventReasonPodCreateFailed = "PodCreateFailed"
	EventReasonPodDeleted      = "PodDeleted"
	EventReasonPodReplaced     = "PodReplaced"
)

// WarmPool keeps a number of pre-started pods ready to be taken by Sandboxes.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:subresource:scale:specpath=.spec.replicas,statuspath=.status.replicas,selectorpath=.status.selector
// +kubebuilder:resource:shortName=wp,categories=arl
// +kubebuilder:storageversion
// +kubebuilder:printcolumn:name="Desired",type=integer,JSONPath=`.spec.replicas`
// +kubebuilder:printcolumn:name="Ready",type=integer,JSONPath=`.status.readyReplicas`
// +kubebuilder:printcolumn:name="Allocated",type=integer,JSONPath=`.status.allocatedReplicas`
// +kubebuilder:printcolumn:name="Auth",type=string,JSONPath=`.spec.sidecarAuth`,priority=1
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type WarmPool struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the desired state of the pool.
	// +required
	Spec WarmPoolSpec `json:"spec"`

	// status is the observed state of the pool.
	// +optional
	Status WarmPoolStatus `json:"status,omitempty"`
}

// WarmPoolList is a list of WarmPools.
//
// +kubebuilder:object:root=true
type WarmPoolList struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []WarmPool `json:"items"`
}

// DesiredReplicas is spec.replicas with its default applied.
func (p *WarmPool) DesiredReplicas() int32 {
	if p.Spec.Replicas == nil {
		return 1
	}
	return *p.Spec.Replicas
}

// TokenAuth reports whether the pool's sidecars require a token.
func (p *WarmPool) TokenAuth() bool { return p.Spec.SidecarAuth != SidecarAuthNone }

func init() {
	SchemeBuilder.Register(addKinds(&WarmPool{}, &WarmPoolList{}))
}
