package framework

import (
	"context"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

// operatorPods selects the operator's pods.
var operatorPods = []client.ListOption{client.InNamespace(OperatorNamespace), client.MatchingLabels{"app": "arl-operator"}}

func operatorDeployment(t testing.TB) *appsv1.Deployment {
	t.Helper()
	d := &appsv1.Deployment{}
	c, cancel := callCtx()
	defer cancel()
	if err := Client().Get(c, client.ObjectKey{Namespace: OperatorNamespace, Name: "arl-operator"}, d); err != nil {
		t.Fatalf("get the operator Deployment: %v", err)
	}
	return d
}

// OperatorReplicas is the operator Deployment's spec.replicas.
func OperatorReplicas(t testing.TB) int32 {
	t.Helper()
	return ptr.Deref(operatorDeployment(t).Spec.Replicas, 1)
}

// ScaleOperator sets the operator Deployment's replicas.
func ScaleOperator(t testing.TB, replicas int32) {
	t.Helper()
	d := operatorDeployment(t)
	patch := client.MergeFrom(d.DeepCopy())
	d.Spec.Replicas = ptr.To(replicas)
	c, cancel := callCtx()
	defer cancel()
	if err := Client().Patch(c, d, patch); err != nil {
		t.Fatalf("scale the operator to %d: %v", replicas, err)
	}
}

// WaitOperatorAvailable waits until the operator Deployment's Available
// condition is True for its current generation.
func WaitOperatorAvailable(t testing.TB, timeout time.Duration) {
	t.Helper()
	d := &appsv1.Deployment{}
	Until(t, timeout, "the operator Deployment to be Available", func(c context.Context) (bool, string, error) {
		if err := Client().Get(c, client.ObjectKey{Namespace: OperatorNamespace, Name: "arl-operator"}, d); err != nil {
			return false, "", err
		}
		state := fmt.Sprintf("generation %d observed %d, replicas %d available %d", d.Generation, d.Status.ObservedGeneration, d.Status.Replicas, d.Status.AvailableReplicas)
		if d.Status.ObservedGeneration < d.Generation {
			return false, state, nil
		}
		for _, cond := range d.Status.Conditions {
			if cond.Type == appsv1.DeploymentAvailable {
				return cond.Status == corev1.ConditionTrue, state + fmt.Sprintf("; Available=%s %s", cond.Status, cond.Message), nil
			}
		}
		return false, state + "; no Available condition", nil
	})
}

// KillOperator deletes the operator's pods without waiting; force skips
// the grace period (`kubectl delete pod --force --grace-period=0`).
func KillOperator(t testing.TB, force bool) {
	t.Helper()
	opts := []client.DeleteAllOfOption{client.InNamespace(OperatorNamespace), client.MatchingLabels{"app": "arl-operator"}}
	if force {
		opts = append(opts, client.GracePeriodSeconds(0))
	}
	c, cancel := callCtx()
	defer cancel()
	if err := Client().DeleteAllOf(c, &corev1.Pod{}, opts...); err != nil {
		t.Fatalf("delete the operator's pods: %v", err)
	}
}

// WaitOperatorGone waits until no operator pod exists.
func WaitOperatorGone(t testing.TB, timeout time.Duration) {
	t.Helper()
	Until(t, timeout, "the operator's pods to be gone", func(c context.Context) (bool, string, error) {
		pods := &corev1.PodList{}
		if err := Client().List(c, pods, operatorPods...); err != nil {
			return false, "", err
		}
		names := make([]string, len(pods.Items))
		for i, p := range pods.Items {
			names[i] = p.Name
		}
		return len(pods.Items) == 0, fmt.Sprintf("pods %v", names), nil
	})
}

// SidecarToken is the token in the pod's Secret (decoded).
func SidecarToken(t testing.TB, pod string) string {
	t.Helper()
	secret := &corev1.Secret{}
	Get(t, arlv1.SidecarTokenSecretName(pod), secret)
	token := string(secret.Data[arlv1.SidecarTokenSecretKey])
	if token == "" {
		t.Fatalf("secret %s has no %q", secret.Name, arlv1.SidecarTokenSecretKey)
	}
	return token
}
