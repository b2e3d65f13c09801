// Package webhook holds the validating admission webhooks of the three ARL
// kinds. The CRD schemas (markers and CEL on the types) already enforce
// required fields, enums, ranges and immutability; these validators add the
// checks a schema cannot express (the template's executor container, path
// confinement, argv shape, duplicate step names) and repeat the important
// ones so a denial always reads as one clear message.
package webhook

import (
	"fmt"

	ctrl "sigs.k8s.io/controller-runtime"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

// Setup registers the validating webhooks of WarmPool, Sandbox and Task on
// the manager's webhook server.
func Setup(mgr ctrl.Manager) error {
	if err := ctrl.NewWebhookManagedBy(mgr, &arlv1.WarmPool{}).WithValidator(&WarmPoolValidator{}).Complete(); err != nil {
		return fmt.Errorf("register WarmPool webhook: %w", err)
	}
	if err := ctrl.NewWebhookManagedBy(mgr, &arlv1.Sandbox{}).WithValidator(&SandboxValidator{}).Complete(); err != nil {
		return fmt.Errorf("register Sandbox webhook: %w", err)
	}
	if err := ctrl.NewWebhookManagedBy(mgr, &arlv1.Task{}).WithValidator(&TaskValidator{}).Complete(); err != nil {
		return fmt.Errorf("register Task webhook: %w", err)
	}
	return nil
}
