package commands

import (
	"fmt"

	"github.com/spf13/pflag"

	"github.com/arl-infra/arl/cli/internal/endpointcache"
	"github.com/arl-infra/arl/cli/internal/sandbox"
	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

// keyFlags are the global flags the endpoint cache's key covers. A command
// line that sets any other global flag (--server, --token, --as, --cluster,
// ...) resolves through the API server every time and stores nothing: the
// lean front (cmd/kubectl-arl) hands such command lines to this binary
// without reading the cache either.
var keyFlags = map[string]bool{"kubeconfig": true, "context": true, "namespace": true, "connect": true, "no-cache": true}

// cacheKey is the endpoint cache key of sandbox name under this command
// line's flags; ok is false when the cache is off for it.
func (o *Options) cacheKey(name string) (key endpointcache.Key, ok bool) {
	if o.noCache || o.globals == nil {
		return key, false
	}
	ok = true
	o.globals.VisitAll(func(f *pflag.Flag) { // Changed is shared with the subcommand's flag set
		if f.Changed && !keyFlags[f.Name] {
			ok = false
		}
	})
	flags := o.Kube.Flags
	return endpointcache.Key{
		Kubeconfig: deref(flags.KubeConfig), Context: deref(flags.Context),
		Namespace: deref(flags.Namespace), Sandbox: name,
	}, ok
}

// remember stores a freshly resolved, directly reachable sidecar for the
// fast path. A port-forwarded one is not stored: the fast path dials pod
// IPs only.
func (o *Options) remember(conn *sandbox.Conn) {
	sb := conn.Target.Sandbox
	key, ok := o.cacheKey(sb.Name)
	if !ok || conn.Endpoint.Forwarded {
		return
	}
	err := endpointcache.Store(key, endpointcache.Entry{
		Namespace: sb.Namespace, SandboxUID: string(sb.UID), Pod: sb.Status.PodName,
		IP: sb.Status.PodIP, Port: arlv1.SidecarHTTPPort, Token: conn.Target.Token,
	})
	if err != nil {
		fmt.Fprintln(o.IO.ErrOut, "warning: not caching the sidecar endpoint:", err)
	}
}

// dropCached forgets a sandbox's entry (create and delete call it, so a
// re-created sandbox of the same name is always resolved afresh).
func (o *Options) dropCached(name string) {
	flags := o.Kube.Flags
	endpointcache.Drop(endpointcache.Key{
		Kubeconfig: deref(flags.KubeConfig), Context: deref(flags.Context),
		Namespace: deref(flags.Namespace), Sandbox: name,
	})
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
