package main

// The operator's permissions in its own namespace only. controller-gen
// writes them, with the ClusterRole from the controllers' markers, into
// config/rbac/role.yaml as the Role arl-operator in arl-system; the chart
// renders the same rules into its release namespace (charts/arl/templates/
// role.yaml), so there is one source.
//
// The leader-election Lease, and the events recording its transitions:
// +kubebuilder:rbac:groups=coordination.k8s.io,resources=leases,verbs=get;list;watch;create;update;patch;delete,namespace=arl-system
// +kubebuilder:rbac:groups="";events.k8s.io,resources=events,verbs=create;patch,namespace=arl-system
//
// The webhook serving certificate's Secret (shared by every replica):
// renewing it needs update of that one Secret only.
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;create,namespace=arl-system
// +kubebuilder:rbac:groups="",resources=secrets,resourceNames=arl-webhook-cert,verbs=update,namespace=arl-system
