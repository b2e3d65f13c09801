package webhook

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

// +kubebuilder:webhook:path=/validate-arl-infra-io-v1alpha1-warmpool,mutating=false,failurePolicy=fail,sideEffects=None,groups=arl.infra.io,resources=warmpools,verbs=create;update,versions=v1alpha1,name=vwarmpool.arl.infra.io,admissionReviewVersions=v1

// WarmPoolValidator validates WarmPools at admission.
type WarmPoolValidator struct{}

var _ admission.Validator[*arlv1.WarmPool] = &WarmPoolValidator{}

// ValidateCreate checks a new WarmPool.
func (v *WarmPoolValidator) ValidateCreate(_ context.Context, pool *arlv1.WarmPool) (admission.Warnings, error) {
	return nil, toInvalid("WarmPool", pool.Name, ValidateWarmPool(pool))
}

// ValidateUpdate checks a changed WarmPool; the template may change (idle
// pods are then replaced).
func (v *WarmPoolValidator) ValidateUpdate(_ context.Context, _, pool *arlv1.WarmPool) (admission.Warnings, error) {
	return nil, toInvalid("WarmPool", pool.Name, ValidateWarmPool(pool))
}

// ValidateDelete allows every deletion.
func (v *WarmPoolValidator) ValidateDelete(context.Context, *arlv1.WarmPool) (admission.Warnings, error) {
	return nil, nil
}

// ValidateWarmPool returns the problems of a WarmPool's pod template, which
// the CRD keeps schemaless (so CEL cannot see into it): the executor
// container must exist and the operator's own names are reserved. Replicas
// and sidecarAuth are checked by the schema.
func ValidateWarmPool(pool *arlv1.WarmPool) field.ErrorList {
	var errs field.ErrorList
	spec := field.NewPath("spec")
	podSpec := spec.Child("template", "spec")
	containers := pool.Spec.Template.Spec.Containers
	executors := 0
	for i, c := range containers {
		switch c.Name {
		case arlv1.ExecutorContainerName:
			executors++
		case arlv1.SidecarContainerName:
			errs = append(errs, field.Invalid(podSpec.Child("containers").Index(i).Child("name"), c.Name,
				`the name "sidecar" is reserved: the operator adds this container`))
		}
	}
	if executors == 0 {
		errs = append(errs, field.Required(podSpec.Child("containers"),
			`the template needs a container named "executor" (user code runs there)`))
	}
	for i, c := range pool.Spec.Template.Spec.InitContainers {
		if c.Name == arlv1.InstallInitContainerName {
			errs = append(errs, field.Invalid(podSpec.Child("initContainers").Index(i).Child("name"), c.Name,
				`the name "arl-install" is reserved: the operator adds this init container`))
		}
	}
	for i, vol := range pool.Spec.Template.Spec.Volumes {
		if vol.Name == arlv1.ToolsVolumeName || vol.Name == arlv1.RunVolumeName {
			errs = append(errs, field.Invalid(podSpec.Child("volumes").Index(i).Child("name"), vol.Name,
				`the name "`+vol.Name+`" is reserved: the operator adds this volume`))
		}
	}
	errs = append(errs, validateInjected(pool.Spec.Injected, spec.Child("injected"))...)
	return errs
}

// toInvalid turns an ErrorList into the API's Invalid error (HTTP 422), whose
// message lists every problem; nil when the list is empty.
func toInvalid(kind, name string, errs field.ErrorList) error {
	if len(errs) == 0 {
		return nil
	}
	return apierrors.NewInvalid(arlv1.GroupVersion.WithKind(kind).GroupKind(), name, errs)
}
