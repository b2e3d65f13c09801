package certs

import (
	"bytes"
	"context"
	"fmt"
	"net/http"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
)

// CABundleReconciler keeps the caBundle of every webhook of one
// ValidatingWebhookConfiguration equal to the operator's CA, also after the
// configuration is re-applied from the manifests.
type CABundleReconciler struct {
	client.Client
	// ConfigName is the ValidatingWebhookConfiguration to patch.
	ConfigName string
	// CABundle is the PEM of the CA that signed the serving certificate.
	CABundle []byte
}

// +kubebuilder:rbac:groups=admissionregistration.k8s.io,resources=validatingwebhookconfigurations,verbs=get;list;watch;patch

// Reconcile patches the caBundle when it differs.
func (r *CABundleReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	cfg := &admissionregistrationv1.ValidatingWebhookConfiguration{}
	if err := r.Get(ctx, req.NamespacedName, cfg); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	patch := client.MergeFromWithOptions(cfg.DeepCopy(), client.MergeFromWithOptimisticLock{})
	changed := false
	for i := range cfg.Webhooks {
		if !bytes.Equal(cfg.Webhooks[i].ClientConfig.CABundle, r.CABundle) {
			cfg.Webhooks[i].ClientConfig.CABundle = r.CABundle
			changed = true
		}
	}
	if !changed {
		return ctrl.Result{}, nil
	}
	if err := r.Patch(ctx, cfg, patch); err != nil {
		return ctrl.Result{}, fmt.Errorf("patch caBundle of %s: %w", cfg.Name, err)
	}
	ctrl.LoggerFrom(ctx).Info("webhook caBundle updated", "configuration", cfg.Name)
	return ctrl.Result{}, nil
}

// SetupWithManager watches the one configuration by name.
func (r *CABundleReconciler) SetupWithManager(mgr ctrl.Manager) error {
	byName := predicate.NewPredicateFuncs(func(o client.Object) bool { return o.GetName() == r.ConfigName })
	return ctrl.NewControllerManagedBy(mgr).
		For(&admissionregistrationv1.ValidatingWebhookConfiguration{}, builder.WithPredicates(byName)).
		Named("webhook-cabundle").
		// Every replica serves webhooks, so every replica keeps the bundle.
		WithOptions(controller.Options{NeedLeaderElection: ptr.To(false)}).
		Complete(r)
}

// Checker is a readiness check that passes once every webhook of the
// configuration carries the operator's CA, so "Ready" means the API server
// can call the webhooks (a fresh install applies the configuration without
// a caBundle, and the operator patches it in). Without a configuration
// there is nothing to wait for.
func (r *CABundleReconciler) Checker(_ *http.Request) error {
	cfg := &admissionregistrationv1.ValidatingWebhookConfiguration{}
	if err := r.Get(context.Background(), client.ObjectKey{Name: r.ConfigName}, cfg); err != nil {
		if apierrors.IsNotFound(err) {
			return nil // no configuration: nobody calls the webhooks yet
		}
		return fmt.Errorf("read webhook configuration %s: %w", r.ConfigName, err)
	}
	for _, w := range cfg.Webhooks {
		if !bytes.Equal(w.ClientConfig.CABundle, r.CABundle) {
			return fmt.Errorf("webhook %s of %s does not carry the operator's CA yet", w.Name, r.ConfigName)
		}
	}
	return nil
}
