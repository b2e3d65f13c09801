package poolpod

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

// injectedSecurityContext is the securityContext of the containers the
// operator adds: the pool's spec.injected.securityContext when set, else
// the hardened default. The default runs them as the executor's user when
// the template names it (container over pod), because the sidecar writes
// and removes workspace files beside the executor's: as the same user, it
// needs no capability to manage them. With no user named, the image's user
// applies (non-root in ARL's sidecar image).
func injectedSecurityContext(pool *arlv1.WarmPool, spec *corev1.PodSpec, executor int) *corev1.SecurityContext {
	if inj := pool.Spec.Injected; inj != nil && inj.SecurityContext != nil {
		return inj.SecurityContext.DeepCopy()
	}
	sc := &corev1.SecurityContext{
		AllowPrivilegeEscalation: ptr.To(false),
		ReadOnlyRootFilesystem:   ptr.To(true),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
	sc.RunAsUser, sc.RunAsGroup = executorUser(spec, executor)
	if sc.RunAsUser != nil && *sc.RunAsUser != 0 {
		sc.RunAsNonRoot = ptr.To(true)
	}
	return sc
}

// executorUser is the runAsUser and runAsGroup the template gives the
// executor (its own securityContext over the pod's); nil when unset.
func executorUser(spec *corev1.PodSpec, executor int) (uid, gid *int64) {
	if psc := spec.SecurityContext; psc != nil {
		uid, gid = psc.RunAsUser, psc.RunAsGroup
	}
	if csc := spec.Containers[executor].SecurityContext; csc != nil {
		if csc.RunAsUser != nil {
			uid = csc.RunAsUser
		}
		if csc.RunAsGroup != nil {
			gid = csc.RunAsGroup
		}
	}
	return ptrOrNil(uid), ptrOrNil(gid)
}

func ptrOrNil(p *int64) *int64 {
	if p == nil {
		return nil
	}
	return ptr.To(*p)
}
