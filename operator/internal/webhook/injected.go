package webhook

import (
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

// validateInjected checks a pool's spec.injected: the containers the
// operator adds serve files and forward calls; they never need privileges,
// and a setting the kubelet can never start is refused here rather than as
// a pod that never runs.
func validateInjected(inj *arlv1.InjectedContainers, path *field.Path) field.ErrorList {
	if inj == nil {
		return nil
	}
	var errs field.ErrorList
	if sc := inj.SecurityContext; sc != nil {
		p := path.Child("securityContext")
		if sc.Privileged != nil && *sc.Privileged {
			errs = append(errs, field.Forbidden(p.Child("privileged"), "the injected containers (sidecar, arl-install) need no privileges"))
		}
		if caps := sc.Capabilities; caps != nil {
			for i, c := range caps.Add {
				if c == "ALL" || c == "SYS_ADMIN" || c == "CAP_SYS_ADMIN" {
					errs = append(errs, field.Forbidden(p.Child("capabilities", "add").Index(i),
						"the injected containers (sidecar, arl-install) need no "+string(c)+"; add only the capabilities they use (for example DAC_OVERRIDE to manage files of another user)"))
				}
			}
		}
		if sc.RunAsNonRoot != nil && *sc.RunAsNonRoot && sc.RunAsUser != nil && *sc.RunAsUser == 0 {
			errs = append(errs, field.Invalid(p.Child("runAsUser"), *sc.RunAsUser, "runAsNonRoot is true: the containers would never start as user 0"))
		}
	}
	if r := inj.Resources; r != nil {
		p := path.Child("resources")
		names := make([]corev1.ResourceName, 0, len(r.Requests))
		for name := range r.Requests {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			req := r.Requests[name]
			if req.Sign() < 0 {
				errs = append(errs, field.Invalid(p.Child("requests").Key(string(name)), req.String(), "must be 0 or more"))
			}
			if limit, ok := r.Limits[name]; ok && req.Cmp(limit) > 0 {
				errs = append(errs, field.Invalid(p.Child("requests").Key(string(name)), req.String(),
					"must be less than or equal to the limit "+limit.String()))
			}
		}
		for name, limit := range r.Limits {
			if limit.Sign() < 0 {
				errs = append(errs, field.Invalid(p.Child("limits").Key(string(name)), limit.String(), "must be 0 or more"))
			}
		}
	}
	return errs
}
