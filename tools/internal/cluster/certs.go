package cluster

import (
	"errors"
	"fmt"
	"net"
	"os"

	"github.com/arl-infra/arl/tools/internal/pki"
)

// Names of the files under <state>/pki. Each pair is <name>.crt/<name>.key.
const (
	caName             = "ca"
	frontProxyCAName   = "front-proxy-ca"
	apiserverName      = "apiserver"
	kubeletClientName  = "apiserver-kubelet-client"
	frontProxyName     = "front-proxy-client"
	kubeletServingName = "kubelet"
	adminName          = "admin"
	controllerName     = "controller-manager"
	schedulerName      = "scheduler"
	nodeName           = "node"
	saKeyName          = "sa"
)

// clientCert describes a client identity and the kubeconfig written for it.
type clientCert struct {
	file   string
	cn     string
	groups []string
}

var clientCerts = []clientCert{
	{adminName, "arl-admin", []string{"system:masters"}},
	{controllerName, "system:kube-controller-manager", nil},
	{schedulerName, "system:kube-scheduler", nil},
	// The node is a real node identity for the Node authorizer, and also a
	// member of system:masters: virtual-kubelet lists secrets, configmaps
	// and services cluster-wide, which the Node authorizer alone forbids.
	{nodeName, "system:node:" + NodeName, []string{"system:nodes", "system:masters"}},
}

// EnsurePKI creates the certificates, keys and kubeconfigs on first start.
// It reports whether it generated anything.
func EnsurePKI(l Layout) (bool, error) {
	if _, err := os.Stat(l.PKI("complete")); err == nil {
		return false, nil
	}
	if err := os.MkdirAll(l.PKI(""), 0o700); err != nil {
		return false, fmt.Errorf("create pki dir: %w", err)
	}
	if err := generatePKI(l); err != nil {
		return false, err
	}
	if err := os.WriteFile(l.PKI("complete"), nil, 0o600); err != nil {
		return false, fmt.Errorf("mark pki complete: %w", err)
	}
	return true, nil
}

func generatePKI(l Layout) error {
	dir := l.PKI("")
	ca, err := pki.NewCA("arl-local-ca")
	if err != nil {
		return err
	}
	frontCA, err := pki.NewCA("arl-local-front-proxy-ca")
	if err != nil {
		return err
	}
	issued := []struct {
		name string
		ca   *pki.KeyPair
		req  pki.Request
	}{
		{apiserverName, ca, pki.Request{
			CommonName: "kube-apiserver", Server: true,
			DNSNames: []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"},
			IPs:      ips("127.0.0.1", l.Net.GatewayIP, ServiceIP),
		}},
		{kubeletClientName, ca, pki.Request{CommonName: "kube-apiserver-kubelet-client", Organization: []string{"system:masters"}, Client: true}},
		{frontProxyName, frontCA, pki.Request{CommonName: "front-proxy-client", Client: true}},
		{kubeletServingName, ca, pki.Request{
			CommonName: "system:node:" + NodeName, Organization: []string{"system:nodes"}, Server: true, Client: true,
			DNSNames: []string{"localhost", NodeName}, IPs: ips("127.0.0.1", l.Net.GatewayIP),
		}},
	}
	if err := ca.Write(dir, caName); err != nil {
		return err
	}
	if err := frontCA.Write(dir, frontProxyCAName); err != nil {
		return err
	}
	for _, c := range issued {
		kp, err := c.ca.Issue(c.req)
		if err != nil {
			return err
		}
		if err := kp.Write(dir, c.name); err != nil {
			return err
		}
	}
	for _, c := range clientCerts {
		kp, err := ca.Issue(pki.Request{CommonName: c.cn, Organization: c.groups, Client: true})
		if err != nil {
			return err
		}
		if err := kp.Write(dir, c.file); err != nil {
			return err
		}
		if err := pki.WriteKubeconfig(l.PKI(c.file+".kubeconfig"), l.Net.APIServerURL(), ca, kp, c.cn); err != nil {
			return err
		}
	}
	return pki.WriteSigningKey(dir, saKeyName)
}

// WriteUserKubeconfig copies the admin kubeconfig to <state>/kubeconfig.
func WriteUserKubeconfig(l Layout) error {
	data, err := os.ReadFile(l.PKI(adminName + ".kubeconfig"))
	if err != nil {
		return fmt.Errorf("read admin kubeconfig: %w", err)
	}
	if old, err := os.ReadFile(l.Kubeconfig()); err == nil && string(old) == string(data) {
		return nil
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("read %s: %w", l.Kubeconfig(), err)
	}
	if err := os.WriteFile(l.Kubeconfig(), data, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", l.Kubeconfig(), err)
	}
	return nil
}

func ips(addrs ...string) []net.IP {
	out := make([]net.IP, len(addrs))
	for i, a := range addrs {
		out[i] = net.ParseIP(a)
	}
	return out
}
