package sandbox

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

func TestCheckReady(t *testing.T) {
	ready := &arlv1.Sandbox{Status: arlv1.SandboxStatus{Phase: arlv1.SandboxPhaseReady, PodName: "p"}}
	if err := CheckReady(ready); err != nil {
		t.Fatalf("a Ready sandbox: %v", err)
	}
	pending := &arlv1.Sandbox{ObjectMeta: metav1.ObjectMeta{Name: "sb", Namespace: "ns"}, Status: arlv1.SandboxStatus{
		Phase: arlv1.SandboxPhasePending,
		Conditions: []metav1.Condition{{Type: arlv1.SandboxConditionReady, Status: metav1.ConditionFalse,
			Reason: arlv1.SandboxReasonPoolNotFound, Message: `WarmPool "nope" not found`}},
	}}
	err := CheckReady(pending)
	if err == nil {
		t.Fatal("a Pending sandbox passed")
	}
	for _, want := range []string{`sandbox "sb"`, "not Ready", "phase Pending", "PoolNotFound", `WarmPool "nope" not found`, "kubectl wait"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q lacks %q", err, want)
		}
	}
	failed := &arlv1.Sandbox{ObjectMeta: metav1.ObjectMeta{Name: "sb"}, Status: arlv1.SandboxStatus{Phase: arlv1.SandboxPhaseFailed, PodName: "p"}}
	if err := CheckReady(failed); err == nil || !strings.Contains(err.Error(), "create another") {
		t.Fatalf("a Failed sandbox: %v", err)
	}
}
