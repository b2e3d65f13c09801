package pki

import (
	"crypto/x509"
	"net"
	"testing"
)

func TestIssuedServingCertVerifiesForEverySAN(t *testing.T) {
	ca, err := NewCA("test-ca")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := ca.Write(dir, "ca"); err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.Issue(Request{
		CommonName: "kube-apiserver", Server: true,
		DNSNames: []string{"localhost", "kubernetes.default.svc"},
		IPs:      []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("10.96.0.1")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := leaf.Write(dir, "leaf"); err != nil {
		t.Fatal(err)
	}
	loadedCA, err := Load(dir, "ca")
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := Load(dir, "leaf")
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(loadedCA.Cert)
	for _, name := range []string{"localhost", "kubernetes.default.svc", "127.0.0.1", "10.96.0.1"} {
		_, err := loaded.Cert.Verify(x509.VerifyOptions{Roots: roots, DNSName: name, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
		if err != nil {
			t.Errorf("verify for %s: %v", name, err)
		}
	}
	if _, err := loaded.Cert.Verify(x509.VerifyOptions{Roots: roots, DNSName: "example.com"}); err == nil {
		t.Error("certificate verified for a name it does not carry")
	}
}

func TestClientCertCarriesGroups(t *testing.T) {
	ca, err := NewCA("test-ca")
	if err != nil {
		t.Fatal(err)
	}
	kp, err := ca.Issue(Request{CommonName: "system:node:n", Organization: []string{"system:nodes"}, Client: true})
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	if _, err := kp.Cert.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Fatalf("client cert does not verify for client auth: %v", err)
	}
	if got := kp.Cert.Subject.Organization; len(got) != 1 || got[0] != "system:nodes" {
		t.Fatalf("organization = %v", got)
	}
}
