package warmpool

import (
	"context"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
	"github.com/arl-infra/arl/operator/internal/testenv"
)

func TestDefaultNetworkPolicyDeniesOnlyTheMetadataAddress(t *testing.T) {
	np := buildNetworkPolicy(manualPool(), "arl-system")
	if got := np.Spec.PolicyTypes; len(got) != 1 || got[0] != networkingv1.PolicyTypeEgress {
		t.Fatalf("policy types %v, want Egress only (ingress unrestricted)", got)
	}
	if np.Spec.PodSelector.MatchLabels[arlv1.LabelPool] != "python-pool" {
		t.Errorf("pod selector %v", np.Spec.PodSelector)
	}
	rules := np.Spec.Egress
	if len(rules) != 1 || len(rules[0].To) != 2 || len(rules[0].Ports) != 0 {
		t.Fatalf("egress %+v, want one rule to everywhere but the metadata address", rules)
	}
	v4, v6 := rules[0].To[0].IPBlock, rules[0].To[1].IPBlock
	if v4.CIDR != "0.0.0.0/0" || len(v4.Except) != 1 || v4.Except[0] != metadataIPv4 ||
		v6.CIDR != "::/0" || len(v6.Except) != 1 || v6.Except[0] != metadataIPv6 {
		t.Errorf("egress peers %+v %+v", v4, v6)
	}
}

func TestNetworkPolicyDenyAndIngressAllowList(t *testing.T) {
	pool := manualPool()
	agents := networkingv1.NetworkPolicyPeer{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "agent"}}}
	dns := networkingv1.NetworkPolicyEgressRule{Ports: []networkingv1.NetworkPolicyPort{{Port: ptr.To(intstr.FromInt32(53))}}}
	pool.Spec.NetworkPolicy = &arlv1.PoolNetworkPolicy{
		IngressFrom: []networkingv1.NetworkPolicyPeer{agents},
		Egress:      arlv1.EgressDeny,
		EgressTo:    []networkingv1.NetworkPolicyEgressRule{dns},
	}
	np := buildNetworkPolicy(pool, "arl-system")
	if got := np.Spec.PolicyTypes; len(got) != 2 {
		t.Fatalf("policy types %v, want Ingress and Egress", got)
	}
	if len(np.Spec.Egress) != 1 || np.Spec.Egress[0].Ports[0].Port.IntValue() != 53 {
		t.Errorf("egress %+v, want only the DNS rule", np.Spec.Egress)
	}
	ingress := np.Spec.Ingress
	if len(ingress) != 2 {
		t.Fatalf("ingress %+v, want the operator's rule and the pool's peers", ingress)
	}
	op := ingress[0]
	if op.From[0].NamespaceSelector.MatchLabels[corev1.LabelMetadataName] != "arl-system" || len(op.Ports) != 2 ||
		op.Ports[0].Port.IntValue() != arlv1.SidecarHTTPPort || op.Ports[1].Port.IntValue() != arlv1.SidecarGRPCPort {
		t.Errorf("operator rule %+v, want arl-system on the sidecar's two ports", op)
	}
	if len(ingress[1].From) != 1 || ingress[1].From[0].PodSelector.MatchLabels["app"] != "agent" || len(ingress[1].Ports) != 0 {
		t.Errorf("peer rule %+v, want the agents on any port", ingress[1])
	}

	pool.Spec.NetworkPolicy = &arlv1.PoolNetworkPolicy{Egress: arlv1.EgressDeny}
	if np := buildNetworkPolicy(pool, "arl-system"); len(np.Spec.Egress) != 0 || len(np.Spec.PolicyTypes) != 1 {
		t.Errorf("Deny without egressTo: %+v, want Egress with no rule (nothing allowed)", np.Spec)
	}
	pool.Spec.NetworkPolicy = &arlv1.PoolNetworkPolicy{AllowMetadataAccess: true}
	if np := buildNetworkPolicy(pool, "arl-system"); len(np.Spec.Egress) != 1 || len(np.Spec.Egress[0].To) != 0 {
		t.Errorf("allowMetadataAccess: %+v, want one rule to anywhere", np.Spec.Egress)
	}
}

func TestPoolKeepsItsNetworkPolicy(t *testing.T) {
	pool, c := newPool(t, 0)
	ctx := context.Background()
	key := client.ObjectKeyFromObject(pool)
	np := &networkingv1.NetworkPolicy{}
	testenv.Eventually(t, waitFor, "the pool's NetworkPolicy", func() (bool, error) {
		err := c.Get(ctx, key, np)
		return err == nil, err
	})
	if owner := metav1.GetControllerOf(np); owner == nil || owner.Name != pool.Name || owner.Kind != "WarmPool" {
		t.Fatalf("policy owner %+v, want the pool", owner)
	}

	// An edit is reverted.
	np.Spec.Egress = []networkingv1.NetworkPolicyEgressRule{{}}
	if err := c.Update(ctx, np); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, waitFor, "the edit reverted", func() (bool, error) {
		got := &networkingv1.NetworkPolicy{}
		if err := c.Get(ctx, key, got); err != nil {
			return false, err
		}
		return len(got.Spec.Egress) == 1 && len(got.Spec.Egress[0].To) == 2, fmt.Errorf("egress %+v", got.Spec.Egress)
	})

	// A changed spec.networkPolicy is applied.
	got := getPool(t, c, pool)
	got.Spec.NetworkPolicy = &arlv1.PoolNetworkPolicy{Egress: arlv1.EgressDeny}
	if err := c.Update(ctx, got); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, waitFor, "egress denied", func() (bool, error) {
		got := &networkingv1.NetworkPolicy{}
		if err := c.Get(ctx, key, got); err != nil {
			return false, err
		}
		return len(got.Spec.Egress) == 0, fmt.Errorf("egress %+v", got.Spec.Egress)
	})

	// Disabled: the policy is deleted.
	got = getPool(t, c, pool)
	got.Spec.NetworkPolicy = &arlv1.PoolNetworkPolicy{Disabled: true}
	if err := c.Update(ctx, got); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, waitFor, "the policy deleted", func() (bool, error) {
		err := c.Get(ctx, key, &networkingv1.NetworkPolicy{})
		return apierrors.IsNotFound(err), fmt.Errorf("get: %v", err)
	})
}

func TestPoolLeavesSomeoneElsesNetworkPolicyAlone(t *testing.T) {
	env := suite.Env(t)
	ctx := context.Background()
	ns, err := env.Namespace(ctx, "wp")
	if err != nil {
		t.Fatal(err)
	}
	theirs := &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "python-pool", Namespace: ns},
		Spec:       networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}},
	}
	if err := env.Client.Create(ctx, theirs); err != nil {
		t.Fatal(err)
	}
	pool := manualPool()
	pool.UID, pool.Namespace = "", ns
	pool.Spec.Replicas = new(int32)
	if err := env.Client.Create(ctx, pool); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, waitFor, "a NetworkPolicyConflict event", func() (bool, error) {
		var list corev1.EventList
		if err := env.Client.List(ctx, &list, client.InNamespace(ns)); err != nil {
			return false, err
		}
		for _, e := range list.Items {
			if e.Reason == arlv1.EventReasonNetworkPolicyConflict && e.InvolvedObject.Name == pool.Name {
				return true, nil
			}
		}
		return false, fmt.Errorf("%d events, none NetworkPolicyConflict", len(list.Items))
	})
	got := &networkingv1.NetworkPolicy{}
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(theirs), got); err != nil {
		t.Fatal(err)
	}
	if metav1.GetControllerOf(got) != nil || len(got.Spec.PolicyTypes) != 1 || got.Spec.PolicyTypes[0] != networkingv1.PolicyTypeIngress {
		t.Errorf("their policy was changed: %+v", got)
	}
}
