package webhook

import (
	"context"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

// As for Tasks, matchConditions let the API server admit a Sandbox it can
// prove valid (CEL, stricter than ValidateSandbox) without calling the
// webhook: a Sandbox create is on the path of every new session.
// +kubebuilder:webhook:path=/validate-arl-infra-io-v1alpha1-sandbox,mutating=false,failurePolicy=fail,sideEffects=None,groups=arl.infra.io,resources=sandboxes,verbs=create;update,versions=v1alpha1,name=vsandbox.arl.infra.io,admissionReviewVersions=v1,patch=`{"matchConditions":[{"name":"may-be-invalid","expression":"request.operation == 'CREATE' ? !(has(object.spec) && has(object.spec.poolRef) && size(object.spec.poolRef) <= 253 && object.spec.poolRef.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*$') && (!has(object.spec.idleTimeoutSeconds) || object.spec.idleTimeoutSeconds > 0) && has(object.metadata.name) && size(object.metadata.name) <= 63) : (!has(object.spec) || !has(oldObject.spec) || object.spec != oldObject.spec)"}]}`

// SandboxValidator validates Sandboxes at admission.
type SandboxValidator struct{}

var _ admission.Validator[*arlv1.Sandbox] = &SandboxValidator{}

// ValidateCreate checks a new Sandbox, and that its name fits the label
// arl.infra.io/sandbox its pod gets (a longer name could never be bound).
func (v *SandboxValidator) ValidateCreate(_ context.Context, sb *arlv1.Sandbox) (admission.Warnings, error) {
	errs := ValidateSandbox(sb)
	if len(sb.Name) > validation.LabelValueMaxLength {
		errs = append(errs, field.TooLong(field.NewPath("metadata", "name"), sb.Name, validation.LabelValueMaxLength))
	}
	return nil, toInvalid("Sandbox", sb.Name, errs)
}

// ValidateUpdate checks a changed Sandbox: poolRef may not change.
func (v *SandboxValidator) ValidateUpdate(_ context.Context, old, sb *arlv1.Sandbox) (admission.Warnings, error) {
	errs := ValidateSandbox(sb)
	if old.Spec.PoolRef != sb.Spec.PoolRef {
		errs = append(errs, field.Forbidden(field.NewPath("spec", "poolRef"),
			"poolRef is immutable: delete the sandbox and create a new one on the other pool"))
	}
	return nil, toInvalid("Sandbox", sb.Name, errs)
}

// ValidateDelete allows every deletion.
func (v *SandboxValidator) ValidateDelete(context.Context, *arlv1.Sandbox) (admission.Warnings, error) {
	return nil, nil
}

// ValidateSandbox returns every problem of a Sandbox's spec.
func ValidateSandbox(sb *arlv1.Sandbox) field.ErrorList {
	var errs field.ErrorList
	spec := field.NewPath("spec")
	if sb.Spec.PoolRef == "" {
		errs = append(errs, field.Required(spec.Child("poolRef"), "name the WarmPool to take a pod from"))
	} else {
		for _, msg := range validation.IsDNS1123Subdomain(sb.Spec.PoolRef) {
			errs = append(errs, field.Invalid(spec.Child("poolRef"), sb.Spec.PoolRef, msg))
		}
	}
	if t := sb.Spec.IdleTimeoutSeconds; t != nil && *t <= 0 {
		errs = append(errs, field.Invalid(spec.Child("idleTimeoutSeconds"), *t, "must be a positive number of seconds"))
	}
	return errs
}
