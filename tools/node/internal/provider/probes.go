package provider

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/arl-infra/arl/tools/node/internal/sandbox"
)

type probeKind string

const (
	probeStartup   probeKind = "Startup"
	probeReadiness probeKind = "Readiness"
	probeLiveness  probeKind = "Liveness"
)

// A readiness or startup probe with no initial delay is retried quickly
// until its first success: after firstFastProbeInterval, doubling up to
// fastProbeInterval. A kubelet waits a full period (10 s by default) between
// tries; this node's pods turn Ready within milliseconds of being able to
// serve. A refused connection costs microseconds, so the short first
// intervals are cheap.
const (
	firstFastProbeInterval = 10 * time.Millisecond
	fastProbeInterval      = 100 * time.Millisecond
)

// startProbes runs the container's probes for the current run.
func (c *containerRuntime) startProbes(ctx context.Context, podIP string) {
	if c.spec.StartupProbe != nil {
		go c.probeLoop(ctx, probeStartup, c.spec.StartupProbe, podIP)
	}
	if c.spec.ReadinessProbe != nil {
		go c.probeLoop(ctx, probeReadiness, c.spec.ReadinessProbe, podIP)
	}
	if c.spec.LivenessProbe != nil {
		go c.probeLoop(ctx, probeLiveness, c.spec.LivenessProbe, podIP)
	}
}

func (c *containerRuntime) probeLoop(ctx context.Context, kind probeKind, p *corev1.Probe, podIP string) {
	if kind != probeStartup && !c.waitStarted(ctx) {
		return
	}
	period := time.Duration(max(p.PeriodSeconds, 1)) * time.Second
	if p.PeriodSeconds == 0 {
		period = 10 * time.Second
	}
	timeout := time.Duration(max(p.TimeoutSeconds, 1)) * time.Second
	successNeeded := int(max(p.SuccessThreshold, 1))
	failureNeeded := int(p.FailureThreshold)
	if failureNeeded <= 0 {
		failureNeeded = 3
	}
	fast := p.InitialDelaySeconds == 0 && kind != probeLiveness
	if !sleepCtx(ctx, time.Duration(p.InitialDelaySeconds)*time.Second) {
		return
	}
	// The fast phase ends at the first success, or after two periods of a
	// container that is not coming up (then probes and events go at the
	// pod's own pace).
	fastUntil := time.Now().Add(2 * period)
	rt := newProbeTransport()
	defer rt.CloseIdleConnections()
	successes, failures, everSucceeded := 0, 0, false
	fastWait := firstFastProbeInterval
	for {
		fast = fast && !everSucceeded && time.Now().Before(fastUntil)
		err := c.probeOnce(ctx, rt, p, podIP, timeout)
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			successes, failures = successes+1, 0
			if successes >= successNeeded {
				everSucceeded = true
				c.probeResult(kind, true)
				if kind == probeStartup {
					return
				}
			}
		} else if !fast {
			// Failures in the fast phase are the container starting: they do
			// not count towards the threshold (which assumes full periods).
			successes, failures = 0, failures+1
			if failures >= failureNeeded {
				c.pr.event(c.pr.currentPod(), corev1.EventTypeWarning, "Unhealthy", fmt.Sprintf("%s probe failed: %v", kind, err))
				c.probeResult(kind, false)
				if kind != probeReadiness {
					return // the container is being restarted
				}
			}
		}
		wait := period
		if fast && !everSucceeded {
			wait = fastWait
			fastWait = min(2*fastWait, fastProbeInterval)
		}
		if !sleepCtx(ctx, wait) {
			return
		}
	}
}

// probeResult applies a probe's verdict to the container.
func (c *containerRuntime) probeResult(kind probeKind, ok bool) {
	pr := c.pr
	switch kind {
	case probeReadiness:
		pr.mu.Lock()
		changed := c.ready != ok && c.pid != 0
		if changed {
			c.ready = ok
		}
		pr.mu.Unlock()
		if changed {
			pr.notifyStatus()
		}
	case probeStartup:
		if ok {
			pr.mu.Lock()
			c.started = true
			c.markStartedLocked()
			pr.mu.Unlock()
			pr.notifyStatus()
			return
		}
		c.restartUnhealthy(kind)
	case probeLiveness:
		if !ok {
			c.restartUnhealthy(kind)
		}
	}
}

func (c *containerRuntime) restartUnhealthy(kind probeKind) {
	grace := 30 * time.Second
	pod := c.pr.currentPod()
	if g := pod.Spec.TerminationGracePeriodSeconds; g != nil {
		grace = time.Duration(*g) * time.Second
	}
	c.pr.event(pod, corev1.EventTypeNormal, "Killing", fmt.Sprintf("Container %s failed %s probe, will be restarted", c.spec.Name, kind))
	go c.kill(grace)
}

func (c *containerRuntime) probeOnce(ctx context.Context, rt http.RoundTripper, p *corev1.Probe, podIP string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	switch {
	case p.Exec != nil:
		c.pr.mu.Lock()
		pid, env, wd := c.pid, c.env, c.spec.WorkingDir
		c.pr.mu.Unlock()
		if pid == 0 {
			return fmt.Errorf("container is not running")
		}
		cmd := sandbox.ExecCommand(pid, p.Exec.Command, env, wd)
		if err := startKillable(ctx, cmd); err != nil {
			return err
		}
		err := cmd.Wait()
		countChildCPU(childExec, cmd.ProcessState)
		if err != nil {
			return fmt.Errorf("command %q: %w", p.Exec.Command, err)
		}
		return ctx.Err()
	case p.HTTPGet != nil:
		return httpProbe(ctx, rt, p.HTTPGet, podIP, c.spec.Ports)
	case p.TCPSocket != nil:
		host := p.TCPSocket.Host
		if host == "" {
			host = podIP
		}
		port, err := resolvePort(p.TCPSocket.Port, c.spec.Ports)
		if err != nil {
			return err
		}
		conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			return err
		}
		return conn.Close()
	}
	return nil // gRPC probes are not run on this node: treated as passing
}

// newProbeTransport is the HTTP transport of one probe loop. Unlike a
// kubelet, which opens a connection per probe, it keeps one connection to
// the container open between probes: a probe every second on every idle
// pool pod then costs the node and the container a request, not a TCP
// handshake, a new server goroutine and a teardown each time. A connection
// the container closed is replaced by a new one transparently. The loop
// closes it when it ends.
func newProbeTransport() *http.Transport {
	return &http.Transport{
		TLSClientConfig:     &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // kubelets skip verification of probe targets too
		MaxIdleConnsPerHost: 1,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}
}

func httpProbe(ctx context.Context, rt http.RoundTripper, g *corev1.HTTPGetAction, podIP string, ports []corev1.ContainerPort) error {
	host := g.Host
	if host == "" {
		host = podIP
	}
	port, err := resolvePort(g.Port, ports)
	if err != nil {
		return err
	}
	scheme := "http"
	if g.Scheme == corev1.URISchemeHTTPS {
		scheme = "https"
	}
	path := g.Path
	if path == "" || path[0] != '/' {
		path = "/" + path
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s://%s%s", scheme, net.JoinHostPort(host, strconv.Itoa(port)), path), nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", "kube-probe/1.37")
	for _, h := range g.HTTPHeaders {
		req.Header.Set(h.Name, h.Value)
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return err
	}
	// Drain the (small) body so the connection can serve the next probe.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode >= 400 {
		return fmt.Errorf("HTTP probe failed with statuscode: %d", resp.StatusCode)
	}
	return nil
}

func resolvePort(p intstr.IntOrString, ports []corev1.ContainerPort) (int, error) {
	if p.Type == intstr.Int {
		return p.IntValue(), nil
	}
	for _, cp := range ports {
		if cp.Name == p.StrVal {
			return int(cp.ContainerPort), nil
		}
	}
	if n, err := strconv.Atoi(p.StrVal); err == nil {
		return n, nil
	}
	return 0, fmt.Errorf("no container port named %q", p.StrVal)
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
