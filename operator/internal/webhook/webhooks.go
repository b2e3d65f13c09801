// Package webhook holds the validating admission webhook for what the CRD
// schemas cannot express. Every rule CEL can state is on the types
// (api/v1alpha1: markers and x-kubernetes-validations), written once; the
// one webhook left checks a WarmPool's pod template, which the CRD keeps
// schemaless. Tasks and Sandboxes have no webhook: their schemas say
// everything.
package webhook

import (
	"fmt"

	ctrl "sigs.k8s.io/controller-runtime"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

// Setup registers the validating webhook of WarmPools on the manager's
// webhook server.
func Setup(mgr ctrl.Manager) error {
	if err := ctrl.NewWebhookManagedBy(mgr, &arlv1.WarmPool{}).WithValidator(&WarmPoolValidator{}).Complete(); err != nil {
		return fmt.Errorf("register WarmPool webhook: %w", err)
	}
	return nil
}
