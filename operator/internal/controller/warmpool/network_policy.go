package warmpool

import (
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

// Cloud metadata addresses: on most clouds they hand out the node's
// credentials to whoever asks from a pod.
const (
	metadataIPv4 = "169.254.169.254/32"
	metadataIPv6 = "fd00:ec2::254/128"
)

// buildNetworkPolicy renders pool.spec.networkPolicy as the NetworkPolicy
// of the pool's pods (the pods labelled with the pool, idle or allocated).
// operatorNamespace is where the operator runs: with an ingress allow-list,
// it may still reach the sidecar's ports.
func buildNetworkPolicy(pool *arlv1.WarmPool, operatorNamespace string) *networkingv1.NetworkPolicy {
	spec := arlv1.PoolNetworkPolicy{}
	if pool.Spec.NetworkPolicy != nil {
		spec = *pool.Spec.NetworkPolicy
	}
	np := &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{
			Name:      pool.Name,
			Namespace: pool.Namespace,
			Labels:    map[string]string{arlv1.LabelPool: pool.Name},
		},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{arlv1.LabelPool: pool.Name}},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress},
			Egress:      egressRules(spec),
		},
	}
	if len(spec.IngressFrom) > 0 {
		np.Spec.PolicyTypes = append([]networkingv1.PolicyType{networkingv1.PolicyTypeIngress}, np.Spec.PolicyTypes...)
		np.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{
			{
				From: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{
					MatchLabels: map[string]string{corev1.LabelMetadataName: operatorNamespace},
				}}},
				Ports: sidecarPorts(),
			},
			{From: spec.IngressFrom},
		}
	}
	return np
}

func egressRules(spec arlv1.PoolNetworkPolicy) []networkingv1.NetworkPolicyEgressRule {
	if spec.Egress == arlv1.EgressDeny {
		return spec.EgressTo // none: no egress at all
	}
	if spec.AllowMetadataAccess {
		return []networkingv1.NetworkPolicyEgressRule{{}} // anywhere
	}
	return []networkingv1.NetworkPolicyEgressRule{{To: []networkingv1.NetworkPolicyPeer{
		{IPBlock: &networkingv1.IPBlock{CIDR: "0.0.0.0/0", Except: []string{metadataIPv4}}},
		{IPBlock: &networkingv1.IPBlock{CIDR: "::/0", Except: []string{metadataIPv6}}},
	}}}
}

func sidecarPorts() []networkingv1.NetworkPolicyPort {
	tcp := corev1.ProtocolTCP
	var ports []networkingv1.NetworkPolicyPort
	for _, p := range []int32{arlv1.SidecarHTTPPort, arlv1.SidecarGRPCPort} {
		port := intstr.FromInt32(p)
		ports = append(ports, networkingv1.NetworkPolicyPort{Protocol: &tcp, Port: &port})
	}
	return ports
}
