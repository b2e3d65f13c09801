// Package transport decides how the plugin reaches a sandbox's sidecar: its
// pod IP directly when that is routable from here, or a port-forward through
// the API server (client-go's portforward, as `kubectl port-forward`) when it
// is not. The choice is automatic (a quick TCP probe) or forced by a mode.
package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/util/httpstream" //nolint:staticcheck // SA1019: client-go v0.37 portforward still takes this package's Dialer, not k8s.io/streaming's
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/transport/spdy"
)

// Mode selects the path to a sidecar.
type Mode string

const (
	// Auto probes the pod IP and falls back to a port-forward.
	Auto Mode = "auto"
	// Direct always dials the pod IP.
	Direct Mode = "direct"
	// PortForward always tunnels through the API server.
	PortForward Mode = "port-forward"
)

// ParseMode accepts auto, direct or port-forward.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case Auto, Direct, PortForward:
		return m, nil
	}
	return "", fmt.Errorf("unknown connection mode %q: use auto, direct or port-forward", s)
}

// ProbeTimeout bounds the TCP probe of a pod IP in Auto mode: a routable pod
// answers a connect in well under a millisecond on a cluster network.
const ProbeTimeout = 300 * time.Millisecond

// Pod names the pod whose port to reach.
type Pod struct {
	Namespace, Name, IP string
	Port                int
}

// Endpoint is an open path to a pod's port.
type Endpoint struct {
	// Address is "host:port" to dial.
	Address string
	// Forwarded is true when the path is a port-forward.
	Forwarded bool
	// first is the probe's connection, handed to the first dial.
	mu    sync.Mutex
	first net.Conn
	stop  chan struct{}
}

// Dial returns the probe's connection the first time, a new one afterwards.
func (e *Endpoint) Dial(ctx context.Context, network, _ string) (net.Conn, error) {
	e.mu.Lock()
	c := e.first
	e.first = nil
	e.mu.Unlock()
	if c != nil {
		return c, nil
	}
	var d net.Dialer
	return d.DialContext(ctx, network, e.Address)
}

// Close ends the port-forward (if any) and drops an unused probe connection.
func (e *Endpoint) Close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.first != nil {
		_ = e.first.Close()
		e.first = nil
	}
	if e.stop != nil {
		close(e.stop)
		e.stop = nil
	}
}

// Open reaches pod.Port by mode. cfg and core (a core/v1 REST client) are
// needed only for a port-forward.
func Open(ctx context.Context, mode Mode, pod Pod, cfg *rest.Config, core rest.Interface) (*Endpoint, error) {
	direct := net.JoinHostPort(pod.IP, strconv.Itoa(pod.Port))
	if mode == Direct || mode == Auto {
		if pod.IP == "" && mode == Direct {
			return nil, fmt.Errorf("pod %s/%s has no IP yet", pod.Namespace, pod.Name)
		}
		if pod.IP != "" {
			d := net.Dialer{Timeout: ProbeTimeout}
			conn, err := d.DialContext(ctx, "tcp", direct)
			if err == nil {
				return &Endpoint{Address: direct, first: conn}, nil
			}
			if mode == Direct {
				return nil, fmt.Errorf("dialing the sidecar at %s: %w (try --connect=port-forward)", direct, err)
			}
		}
	}
	return forward(ctx, pod, cfg, core)
}

// forward starts `kubectl port-forward pod :port` in-process on a free
// loopback port.
func forward(ctx context.Context, pod Pod, cfg *rest.Config, core rest.Interface) (*Endpoint, error) {
	if cfg == nil || core == nil {
		return nil, errors.New("port-forward needs a Kubernetes client")
	}
	reqURL := core.Post().Resource("pods").Namespace(pod.Namespace).
		Name(pod.Name).SubResource("portforward").URL()
	dialer, err := newDialer(cfg, reqURL)
	if err != nil {
		return nil, err
	}
	stop, ready := make(chan struct{}), make(chan struct{})
	fw, err := portforward.NewOnAddresses(dialer, []string{"127.0.0.1"},
		[]string{"0:" + strconv.Itoa(pod.Port)}, stop, ready, io.Discard, io.Discard)
	if err != nil {
		return nil, fmt.Errorf("setting up the port-forward to %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	done := make(chan error, 1)
	go func() { done <- fw.ForwardPorts() }()
	select {
	case <-ready:
	case err := <-done:
		return nil, fmt.Errorf("port-forward to pod %s/%s: %w (needs RBAC create on pods/portforward)", pod.Namespace, pod.Name, err)
	case <-ctx.Done():
		close(stop)
		return nil, fmt.Errorf("port-forward to pod %s/%s: %w", pod.Namespace, pod.Name, ctx.Err())
	}
	ports, err := fw.GetPorts()
	if err != nil || len(ports) == 0 {
		close(stop)
		return nil, fmt.Errorf("port-forward to pod %s/%s: no local port: %v", pod.Namespace, pod.Name, err)
	}
	return &Endpoint{
		Address:   net.JoinHostPort("127.0.0.1", strconv.Itoa(int(ports[0].Local))),
		Forwarded: true,
		stop:      stop,
	}, nil
}

// newDialer tries the WebSocket tunnel first and falls back to SPDY, as
// kubectl does.
func newDialer(cfg *rest.Config, reqURL *url.URL) (httpstream.Dialer, error) {
	rt, upgrader, err := spdy.RoundTripperFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("building the SPDY transport: %w", err)
	}
	spdyDialer := spdy.NewDialer(upgrader, &http.Client{Transport: rt}, http.MethodPost, reqURL)
	wsDialer, err := portforward.NewSPDYOverWebsocketDialer(reqURL, cfg)
	if err != nil {
		return spdyDialer, nil
	}
	return portforward.NewFallbackDialer(wsDialer, spdyDialer, func(err error) bool {
		return httpstream.IsUpgradeFailure(err) || httpstream.IsHTTPSProxyError(err) ||
			strings.Contains(err.Error(), "websocket")
	}), nil
}
