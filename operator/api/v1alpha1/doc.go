// Package v1alpha1 holds the arl.infra.io/v1alpha1 API: WarmPool (a pool of
// pre-started pods), Sandbox (one pod taken from a pool) and Task (steps run
// in a sandbox).
//
// +kubebuilder:object:generate=true
// +groupName=arl.infra.io
package v1alpha1
