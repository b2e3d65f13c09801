package task

import (
	"errors"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

// TestCheckPodRefusesPodsThatAreNotTheSandboxs: steps and the token go only
// to a pod the sandbox controls, at the IP the sandbox's status gives. A
// pod still its pool's (the bind follows the sandbox's status write) or
// no one's is waited for, not refused.
func TestCheckPodRefusesPodsThatAreNotTheSandboxs(t *testing.T) {
	sb := readySandbox()
	sb.Spec.PoolRef = "pool"
	own := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "pod", Namespace: "ns",
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(sb, arlv1.GroupVersion.WithKind("Sandbox"))}},
		Status: corev1.PodStatus{PodIP: "10.0.0.2", PodIPs: []corev1.PodIP{{IP: "10.0.0.2"}}},
	}
	secondIP := own.DeepCopy()
	secondIP.Status.PodIP = "fd00::2"
	otherSandbox := own.DeepCopy()
	otherSandbox.OwnerReferences[0].UID = "sb-uid-of-a-recreated-sandbox"
	poolOwned := own.DeepCopy()
	poolOwned.OwnerReferences[0].Kind, poolOwned.OwnerReferences[0].Name = "WarmPool", "pool"
	otherPoolOwned := poolOwned.DeepCopy()
	otherPoolOwned.OwnerReferences[0].Name = "another-pool"
	noOwner := own.DeepCopy()
	noOwner.OwnerReferences = nil
	otherIP := own.DeepCopy()
	otherIP.Status.PodIP, otherIP.Status.PodIPs = "10.0.0.9", nil
	noIP := own.DeepCopy()
	noIP.Status = corev1.PodStatus{}
	for _, tc := range []struct {
		name string
		pod  *corev1.Pod
		ok   bool
		wait bool
	}{
		{"controlled by the sandbox, at its IP", own, true, false},
		{"the sandbox's IP among the pod's podIPs", secondIP, true, false},
		{"controlled by another sandbox uid", otherSandbox, false, false},
		{"still controlled by the sandbox's pool (bind in flight)", poolOwned, false, true},
		{"no controller", noOwner, false, true},
		{"controlled by another pool", otherPoolOwned, false, false},
		{"another IP", otherIP, false, false},
		{"no IP yet", noIP, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkPod(sb, tc.pod)
			var ref *refusal
			switch {
			case tc.ok && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.wait && (!errors.Is(err, errPodNotBoundYet) || errors.As(err, &ref)):
				t.Fatalf("err = %v, want errPodNotBoundYet (wait, not a refusal)", err)
			case !tc.ok && !tc.wait && (!errors.As(err, &ref) || ref.reason != arlv1.TaskReasonSandboxPodMismatch || ref.message == ""):
				t.Fatalf("err = %v, want a SandboxPodMismatch refusal with a message", err)
			}
		})
	}
}
