package provider

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/arl-infra/arl/tools/node/internal/sandbox"
)

// containerSecurity is how a container's process runs, from the pod's and
// the container's securityContext as a container runtime reads them: the
// runtime's default capabilities plus add minus drop ("ALL" allowed), all
// of them when privileged; runAsUser/runAsGroup (the container's over the
// pod's), the pod's supplementalGroups; no_new_privs when
// allowPrivilegeEscalation is false.
func containerSecurity(pod *corev1.Pod, c *corev1.Container) sandbox.Security {
	var s sandbox.Security
	psc := pod.Spec.SecurityContext
	if psc != nil {
		s.UID, s.GID = psc.RunAsUser, psc.RunAsGroup
		s.Groups = psc.SupplementalGroups
	}
	csc := c.SecurityContext
	if csc != nil {
		if csc.RunAsUser != nil {
			s.UID = csc.RunAsUser
		}
		if csc.RunAsGroup != nil {
			s.GID = csc.RunAsGroup
		}
		s.Privileged = csc.Privileged != nil && *csc.Privileged
		s.NoNewPrivs = csc.AllowPrivilegeEscalation != nil && !*csc.AllowPrivilegeEscalation && !s.Privileged
	}
	if s.Privileged {
		return s
	}
	caps := slices.Clone(sandbox.DefaultCapabilities)
	if csc != nil && csc.Capabilities != nil {
		for _, d := range csc.Capabilities.Drop {
			name := capName(d)
			if name == "ALL" {
				caps = nil
				break
			}
			caps = slices.DeleteFunc(caps, func(c string) bool { return c == name })
		}
		for _, a := range csc.Capabilities.Add {
			name := capName(a)
			if !slices.Contains(caps, name) {
				caps = append(caps, name)
			}
		}
	}
	// An empty list drops every capability; keep it non-nil so it is not
	// mistaken for "unset" anywhere.
	s.Capabilities = append([]string{}, caps...)
	return s
}

func capName(c corev1.Capability) string {
	return strings.TrimPrefix(strings.ToUpper(string(c)), "CAP_")
}

// verifyRunAsNonRoot refuses a container that must not run as root but
// would: images are not pulled, so their USER is unknown and taken as root,
// and only a runAsUser other than 0 satisfies runAsNonRoot (the kubelet's
// message and reason, CreateContainerConfigError).
func verifyRunAsNonRoot(pod *corev1.Pod, c *corev1.Container) error {
	nonRoot := false
	var uid *int64
	if psc := pod.Spec.SecurityContext; psc != nil {
		nonRoot = psc.RunAsNonRoot != nil && *psc.RunAsNonRoot
		uid = psc.RunAsUser
	}
	if csc := c.SecurityContext; csc != nil {
		if csc.RunAsNonRoot != nil {
			nonRoot = *csc.RunAsNonRoot
		}
		if csc.RunAsUser != nil {
			uid = csc.RunAsUser
		}
	}
	if nonRoot && (uid == nil || *uid == 0) {
		return fmt.Errorf("container has runAsNonRoot and image will run as root (pod: %q, container: %s)",
			pod.Namespace+"/"+pod.Name, c.Name)
	}
	return nil
}
