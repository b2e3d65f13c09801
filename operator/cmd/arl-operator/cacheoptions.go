package main

import (
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

// cacheOptions trims the informer cache: managed fields are dropped from
// every object, a finished Task's outputs from it (tasktrim.go) and what
// the controllers never read from a pool pod (podtrim.go); only pool pods
// and pools' NetworkPolicies are cached (never all of the cluster's);
// of the webhook configurations only the operator's own. Secrets are never
// cached: they are read straight from the API server.
func cacheOptions(c *config) cache.Options {
	poolLabelled := labels.NewSelector()
	req, err := labels.NewRequirement(arlv1.LabelPool, selection.Exists, nil)
	if err != nil {
		panic(err) // a constant, valid label key
	}
	poolLabelled = poolLabelled.Add(*req)

	return cache.Options{
		DefaultTransform: cache.TransformStripManagedFields(),
		ByObject: map[client.Object]cache.ByObject{
			&corev1.Pod{}:                 {Label: poolLabelled, Transform: trimPoolPods},
			&networkingv1.NetworkPolicy{}: {Label: poolLabelled},
			&arlv1.Task{}:                 {Transform: trimFinishedTasks},
			&admissionregistrationv1.ValidatingWebhookConfiguration{}: {
				Field: fields.OneTermEqualSelector("metadata.name", c.webhookConfigName),
			},
		},
	}
}
