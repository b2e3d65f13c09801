package provider

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// podSnapshot is what the pod status is computed from.
type podSnapshot struct {
	Containers     []corev1.Container
	InitContainers []corev1.Container
	ContainerSt    []corev1.ContainerStatus
	InitSt         []corev1.ContainerStatus
	// Final marks containers (by name) that ended and will not restart.
	Final        map[string]bool
	SandboxReady bool
	InitDone     bool
	InitFailed   bool
	PodIP        string
	HostIP       string
	StartTime    *metav1.Time
	Previous     []corev1.PodCondition
	Message      string
	Reason       string
	// QOSClass is what the apiserver set at creation (immutable).
	QOSClass corev1.PodQOSClass
}

// computeStatus builds a pod status the way a kubelet reports it.
func computeStatus(s podSnapshot, now metav1.Time) corev1.PodStatus {
	st := corev1.PodStatus{
		Phase:                 computePhase(s),
		HostIP:                s.HostIP,
		PodIP:                 s.PodIP,
		StartTime:             s.StartTime,
		ContainerStatuses:     s.ContainerSt,
		InitContainerStatuses: s.InitSt,
		QOSClass:              s.QOSClass,
		Message:               s.Message,
		Reason:                s.Reason,
	}
	if s.HostIP != "" {
		st.HostIPs = []corev1.HostIP{{IP: s.HostIP}}
	}
	if s.PodIP != "" {
		st.PodIPs = []corev1.PodIP{{IP: s.PodIP}}
	}
	terminal := st.Phase == corev1.PodSucceeded || st.Phase == corev1.PodFailed
	var notReady []string
	for _, c := range s.ContainerSt {
		if !c.Ready {
			notReady = append(notReady, c.Name)
		}
	}
	containersReady := len(notReady) == 0 && s.InitDone && len(s.ContainerSt) == len(s.Containers) && !terminal
	readyReason, readyMsg := "", ""
	if !containersReady {
		readyReason = "ContainersNotReady"
		readyMsg = fmt.Sprintf("containers with unready status: [%s]", strings.Join(notReady, " "))
		if terminal {
			readyReason, readyMsg = "PodCompleted", ""
		}
	}
	initReason, initMsg := "", ""
	if !s.InitDone {
		var pending []string
		for _, c := range s.InitContainers {
			pending = append(pending, c.Name)
		}
		initReason = "ContainersNotInitialized"
		initMsg = fmt.Sprintf("containers with incomplete status: [%s]", strings.Join(pending, " "))
	}
	conds := []corev1.PodCondition{
		cond(corev1.PodReadyToStartContainers, s.SandboxReady, "", ""),
		cond(corev1.PodInitialized, s.InitDone, initReason, initMsg),
		cond(corev1.PodReady, containersReady, readyReason, readyMsg),
		cond(corev1.ContainersReady, containersReady, readyReason, readyMsg),
		cond(corev1.PodScheduled, true, "", ""),
	}
	for i := range conds {
		conds[i].LastTransitionTime = now
		for _, p := range s.Previous {
			if p.Type == conds[i].Type && p.Status == conds[i].Status {
				conds[i].LastTransitionTime = p.LastTransitionTime
			}
		}
	}
	st.Conditions = conds
	return st
}

func cond(t corev1.PodConditionType, ok bool, reason, msg string) corev1.PodCondition {
	c := corev1.PodCondition{Type: t, Status: corev1.ConditionFalse, Reason: reason, Message: msg}
	if ok {
		c.Status, c.Reason, c.Message = corev1.ConditionTrue, "", ""
	}
	return c
}

func computePhase(s podSnapshot) corev1.PodPhase {
	if s.InitFailed {
		return corev1.PodFailed
	}
	if !s.InitDone {
		return corev1.PodPending
	}
	started, final, failed := 0, 0, 0
	for _, c := range s.ContainerSt {
		if c.State.Running != nil || c.State.Terminated != nil || c.LastTerminationState.Terminated != nil {
			started++
		}
		if s.Final[c.Name] {
			final++
			if t := c.State.Terminated; t != nil && t.ExitCode != 0 {
				failed++
			}
		}
	}
	switch {
	case len(s.Containers) > 0 && final == len(s.Containers) && failed > 0:
		return corev1.PodFailed
	case len(s.Containers) > 0 && final == len(s.Containers):
		return corev1.PodSucceeded
	case started > 0:
		return corev1.PodRunning
	}
	return corev1.PodPending
}

// qosClass classifies a pod as the apiserver does, for a pod object whose
// status does not carry the class yet.
func qosClass(spec *corev1.PodSpec) corev1.PodQOSClass {
	all := append(append([]corev1.Container{}, spec.InitContainers...), spec.Containers...)
	any, guaranteed := false, true
	for _, c := range all {
		for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			req, hasReq := c.Resources.Requests[r]
			lim, hasLim := c.Resources.Limits[r]
			if hasReq || hasLim {
				any = true
			}
			if !hasLim || (hasReq && req.Cmp(lim) != 0) {
				guaranteed = false
			}
		}
	}
	switch {
	case !any:
		return corev1.PodQOSBestEffort
	case guaranteed:
		return corev1.PodQOSGuaranteed
	}
	return corev1.PodQOSBurstable
}
