// Package webhook holds the validating admission webhooks for what the CRD
// schemas cannot express. Every rule CEL can state is on the types
// (api/v1alpha1: markers and x-kubernetes-validations), written once; the
// webhooks only check a WarmPool's pod template (schemaless in the CRD) and
// the "." and ".." segments of a Task's FilePatch paths. Sandboxes have no
// webhook: their schema says everything.
package webhook

import (
	"fmt"

	ctrl "sigs.k8s.io/controller-runtime"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

// Setup registers the validating webhooks of WarmPool and Task on
// the manager's webhook server.
func Setup(mgr ctrl.Manager) error {
	if err := ctrl.NewWebhookManagedBy(mgr, &arlv1.WarmPool{}).WithValidator(&WarmPoolValidator{}).Complete(); err != nil {
		return fmt.Errorf("register WarmPool webhook: %w", err)
	}
	if err := ctrl.NewWebhookManagedBy(mgr, &arlv1.Task{}).WithValidator(&TaskValidator{}).Complete(); err != nil {
		return fmt.Errorf("register Task webhook: %w", err)
	}
	return nil
}
