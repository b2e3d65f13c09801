package main

import (
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/client-go/rest"
)

// apiRequests counts the node's own apiserver requests, so that what a pod
// costs the apiserver can be read off the node alone.
var apiRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
	Namespace: "arl_node", Name: "api_requests_total",
	Help: "Requests the node sent to the apiserver, by verb (GET, LIST, WATCH, POST, PUT, PATCH, DELETE) and resource[/subresource].",
}, []string{"verb", "resource"})

// tuneAPIClient makes the node's client speak protobuf (cheaper to encode
// and decode than JSON for the node and the apiserver alike, as a kubelet
// does) and count its requests.
func tuneAPIClient(cfg *rest.Config) {
	cfg.ContentType = "application/vnd.kubernetes.protobuf"
	cfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return countingTransport{next: rt} })
}

type countingTransport struct{ next http.RoundTripper }

func (t countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	verb, resource := requestKind(req)
	apiRequests.WithLabelValues(verb, resource).Inc()
	return t.next.RoundTrip(req)
}

// requestKind names a request as the apiserver's apiserver_request_total
// does: a verb, and the resource with its subresource.
func requestKind(req *http.Request) (verb, resource string) {
	parts := strings.Split(strings.Trim(req.URL.Path, "/"), "/")
	switch {
	case len(parts) >= 3 && parts[0] == "api":
		parts = parts[2:]
	case len(parts) >= 4 && parts[0] == "apis":
		parts = parts[3:]
	default:
		return req.Method, "other"
	}
	if len(parts) >= 3 && parts[0] == "namespaces" {
		parts = parts[2:]
	}
	resource = parts[0]
	if len(parts) >= 3 {
		resource += "/" + parts[2]
	}
	verb = req.Method
	if verb == http.MethodGet {
		switch {
		case req.URL.Query().Get("watch") == "true":
			verb = "WATCH"
		case len(parts) == 1:
			verb = "LIST"
		}
	}
	return verb, resource
}
