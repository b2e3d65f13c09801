package certs

import (
	"crypto/tls"
	"testing"
	"time"
)

func TestGenerateAndUsable(t *testing.T) {
	o := Options{ServiceName: "arl-webhook-service", ServiceNamespace: "arl-system"}
	now := time.Now()
	b, err := Generate(o.DNSNames(), now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tls.X509KeyPair(b.Cert, b.Key); err != nil {
		t.Fatalf("serving pair unusable by crypto/tls: %v", err)
	}
	if !b.Usable(o.DNSNames(), now) {
		t.Fatal("fresh bundle not usable")
	}
	if b.Usable([]string{"other.svc"}, now) {
		t.Error("bundle usable for a name it does not cover")
	}
	if b.Usable(o.DNSNames(), now.Add(servingValidity-renewBefore+time.Hour)) {
		t.Error("bundle near expiry still usable")
	}
	other, _ := Generate(o.DNSNames(), now)
	mixed := &Bundle{CACert: other.CACert, Cert: b.Cert, Key: b.Key}
	if mixed.Usable(o.DNSNames(), now) {
		t.Error("certificate accepted against a CA that did not sign it")
	}
}
