package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
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

	// networkPolicy is the NetworkPolicy the operator keeps for the pool's
	// pods (named like the pool, owned by it). Unset: egress anywhere but
	// the cloud metadata address, ingress unrestricted. It takes effect
	// where the cluster's network plugin enforces NetworkPolicy.
	// +optional
	NetworkPolicy *PoolNetworkPolicy `json:"networkPolicy,omitempty"`
}

// EgressPolicy says where a pool's pods may connect to.
// +kubebuilder:validation:Enum=Allow;Deny
type EgressPolicy string

const (
	// EgressAllow lets the pods connect anywhere but the cloud metadata
	// address (unless allowMetadataAccess). The default.
	EgressAllow EgressPolicy = "Allow"
	// EgressDeny lets the pods connect only to the destinations of egressTo
	// (add DNS there if the code needs names).
	EgressDeny EgressPolicy = "Deny"
)

// PoolNetworkPolicy is what a pool's NetworkPolicy allows.
// +kubebuilder:validation:XValidation:rule="!has(self.disabled) || !self.disabled || (!has(self.ingressFrom) && !has(self.egress) && !has(self.egressTo) && !has(self.allowMetadataAccess))",message="a disabled networkPolicy takes no other field"
// +kubebuilder:validation:XValidation:rule="!has(self.egressTo) || (has(self.egress) && self.egress == 'Deny')",message="egressTo applies under egress: Deny (Allow already allows every destination but the metadata address)"
type PoolNetworkPolicy struct {
	// disabled: the operator keeps no NetworkPolicy for the pool (and
	// deletes the one it made); the cluster's own policies apply.
	// +optional
	Disabled bool `json:"disabled,omitempty"`

	// ingressFrom restricts who may connect to the pods: these peers, on any
	// port, and the operator's namespace, on the sidecar's ports (8080 and
	// 50051; the Task controller dials them). Unset: anyone may connect
	// (the SDK's direct path and curl to the pod IP need that unless their
	// pods are listed here). Traffic from the node (kubelet probes,
	// port-forward) is allowed by most network plugins regardless.
	// +optional
	// +listType=atomic
	IngressFrom []networkingv1.NetworkPolicyPeer `json:"ingressFrom,omitempty"`

	// egress is Allow (default: anywhere but the cloud metadata address) or
	// Deny (only egressTo).
	// +optional
	Egress EgressPolicy `json:"egress,omitempty"`

	// egressTo lists the destinations allowed under egress: Deny.
	// +optional
	// +listType=atomic
	EgressTo []networkingv1.NetworkPolicyEgressRule `json:"egressTo,omitempty"`

	// allowMetadataAccess lets the pods reach the cloud metadata address
	// (169.254.169.254, fd00:ec2::254), denied by default: it hands out the
	// node's cloud credentials on many clouds.
	// +optional
	AllowMetadataAccess bool `json:"allowMetadataAccess,omitempty"`
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
	// WarmPoolReasonImagePullFailed: a pod's node cannot pull one of its
	// images (ErrImagePull, ImagePullBackOff, InvalidImageName); the
	// message names the pod, container and image with the kubelet's reason.
	WarmPoolReasonImagePullFailed = "ImagePullFailed"
)

// WarmPool event reasons.
const (
	EventReasonPodCreated      = "PodCreated"
	EventReasonPodCreateFailed = "PodCreateFailed"
	EventReasonPodDeleted      = "PodDeleted"
	EventReasonPodReplaced     = "PodReplaced"
	// EventReasonImagePullFailed is a Warning when the pool's Ready
	// condition turns to ImagePullFailed, with the kubelet's message.
	EventReasonImagePullFailed = "ImagePullFailed"
	// EventReasonNetworkPolicyConflict is a Warning when a NetworkPolicy
	// named like the pool exists and is not the pool's: it is left alone.
	EventReasonNetworkPolicyConflict = "NetworkPolicyConflict"
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

// NetworkPolicyEnabled tells whether the operator keeps a NetworkPolicy for
// the pool.
func (p *WarmPool) NetworkPolicyEnabled() bool {
	return p.Spec.NetworkPolicy == nil || !p.Spec.NetworkPolicy.Disabled
}

func init() {
	SchemeBuilder.Register(addKinds(&WarmPool{}, &WarmPoolList{}))
}
