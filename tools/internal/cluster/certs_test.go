package cluster

import (
	"crypto/x509"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/arl-infra/arl/tools/internal/pki"
)

func TestEnsurePKIWritesUsableKubeconfigsAndServingCerts(t *testing.T) {
	l := NewLayout(t.TempDir(), t.TempDir(), "", 3)
	generated, err := EnsurePKI(l)
	if err != nil || !generated {
		t.Fatalf("EnsurePKI = %v, %v; want generated", generated, err)
	}
	if again, err := EnsurePKI(l); err != nil || again {
		t.Fatalf("second EnsurePKI = %v, %v; want reuse", again, err)
	}
	ca, err := pki.Load(l.PKI(""), caName)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)

	for _, c := range clientCerts {
		cfg, err := clientcmd.BuildConfigFromFlags("", l.PKI(c.file+".kubeconfig"))
		if err != nil {
			t.Fatalf("kubeconfig %s: %v", c.file, err)
		}
		if cfg.Host != "https://127.0.0.1:6446" {
			t.Errorf("kubeconfig %s server = %s, want instance 3's https://127.0.0.1:6446", c.file, cfg.Host)
		}
		kp, err := pki.Load(l.PKI(""), c.file)
		if err != nil {
			t.Fatal(err)
		}
		if kp.Cert.Subject.CommonName != c.cn || strings.Join(kp.Cert.Subject.Organization, ",") != strings.Join(c.groups, ",") {
			t.Errorf("%s: subject %v, want CN=%s O=%v", c.file, kp.Cert.Subject, c.cn, c.groups)
		}
	}

	serving := map[string][]string{
		apiserverName:      {"127.0.0.1", "10.244.3.1", "10.96.0.1", "localhost", "kubernetes.default.svc.cluster.local"},
		kubeletServingName: {"127.0.0.1", "10.244.3.1", "localhost", NodeName},
	}
	for name, hosts := range serving {
		kp, err := pki.Load(l.PKI(""), name)
		if err != nil {
			t.Fatal(err)
		}
		for _, host := range hosts {
			if _, err := kp.Cert.Verify(x509.VerifyOptions{Roots: roots, DNSName: host, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
				t.Errorf("%s does not serve %s: %v", name, host, err)
			}
		}
	}
}

func TestNodeArgsFollowInstance(t *testing.T) {
	l := NewLayout("/repo", "/state", "", 2)
	args := strings.Join(node(l).Args, " ")
	for _, want := range []string{"--pod-cidr=10.244.2.0/24", "--bridge=arl2", "--kubelet-addr=127.0.0.1:10450", "--apiserver-host=10.244.2.1", "--apiserver-port=6445", "--state-dir=/state/node", "--hide-dir=/state"} {
		if !strings.Contains(args, want) {
			t.Errorf("node args lack %s: %s", want, args)
		}
	}
}
