package cluster

import (
	"fmt"
	"os"

	"github.com/arl-infra/arl/tools/internal/pki"
)

// ensureRealPKI issues, from the cluster CA, the kubelet's serving
// certificate (for the apiserver's logs/exec/port-forward calls, verified
// against the CA), the kubelet's node identity and kube-proxy's identity,
// each client with its kubeconfig. Written once, under realnode/pki.
func ensureRealPKI(l Layout) error {
	dir := l.RealDir("pki")
	if _, err := os.Stat(l.RealDir("pki", "complete")); err == nil {
		return nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	ca, err := pki.Load(l.PKI(""), caName)
	if err != nil {
		return fmt.Errorf("cluster CA: %w", err)
	}
	serving, err := ca.Issue(pki.Request{
		CommonName: "system:node:" + KubeletNodeName, Organization: []string{"system:nodes"}, Server: true,
		DNSNames: []string{"localhost", KubeletNodeName}, IPs: ips("127.0.0.1", l.Net.Real().GatewayIP),
	})
	if err != nil {
		return err
	}
	if err := serving.Write(dir, "kubelet"); err != nil {
		return err
	}
	clients := []clientCert{
		{"kubelet-client", "system:node:" + KubeletNodeName, []string{"system:nodes"}},
		{"kube-proxy", "system:kube-proxy", nil}, // bound to system:node-proxier by default
	}
	for _, c := range clients {
		kp, err := ca.Issue(pki.Request{CommonName: c.cn, Organization: c.groups, Client: true})
		if err != nil {
			return err
		}
		if err := kp.Write(dir, c.file); err != nil {
			return err
		}
		if err := pki.WriteKubeconfig(l.RealDir("pki", c.file+".kubeconfig"), l.Net.APIServerURL(), ca, kp, c.cn); err != nil {
			return err
		}
	}
	return os.WriteFile(l.RealDir("pki", "complete"), nil, 0o600)
}
