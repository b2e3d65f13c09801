package main

import (
	"net/http"
	"net/url"
	"testing"
)

func TestRequestKind(t *testing.T) {
	for _, c := range []struct{ method, url, verb, resource string }{
		{"PUT", "/api/v1/namespaces/default/pods/p1/status", "PUT", "pods/status"},
		{"DELETE", "/api/v1/namespaces/default/pods/p1", "DELETE", "pods"},
		{"GET", "/api/v1/namespaces/default/secrets/s1?resourceVersion=0", "GET", "secrets"},
		{"GET", "/api/v1/pods?fieldSelector=spec.nodeName%3Dn", "LIST", "pods"},
		{"GET", "/api/v1/pods?watch=true", "WATCH", "pods"},
		{"POST", "/api/v1/namespaces/default/serviceaccounts/default/token", "POST", "serviceaccounts/token"},
		{"POST", "/api/v1/namespaces/default/events", "POST", "events"},
		{"PUT", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n", "PUT", "leases"},
		{"PATCH", "/api/v1/nodes/n/status", "PATCH", "nodes/status"},
		{"GET", "/version", "GET", "other"},
	} {
		u, err := url.Parse(c.url)
		if err != nil {
			t.Fatal(err)
		}
		verb, resource := requestKind(&http.Request{Method: c.method, URL: u})
		if verb != c.verb || resource != c.resource {
			t.Errorf("%s %s = %s %s, want %s %s", c.method, c.url, verb, resource, c.verb, c.resource)
		}
	}
}
