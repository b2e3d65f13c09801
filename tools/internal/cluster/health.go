package cluster

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

// probe checks one aspect of the cluster; nil means healthy.
type probe func(ctx context.Context) error

// client talks to the local apiserver as admin, and to the components'
// health endpoints.
type client struct {
	net   Network
	api   *http.Client // admin client certificate, cluster CA
	local *http.Client // health endpoints with self-signed serving certs
}

func newClient(l Layout) (*client, error) {
	caPEM, err := os.ReadFile(l.PKI(caName + ".crt"))
	if err != nil {
		return nil, fmt.Errorf("read cluster CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("no certificate in %s", l.PKI(caName+".crt"))
	}
	admin, err := tls.LoadX509KeyPair(l.PKI(adminName+".crt"), l.PKI(adminName+".key"))
	if err != nil {
		return nil, fmt.Errorf("load admin certificate: %w", err)
	}
	return &client{
		net: l.Net,
		api: &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{admin}},
		}},
		local: &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{
			// Controller manager and scheduler serve health over HTTPS with
			// certificates they generate themselves at start.
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // loopback health probe only
		}},
	}, nil
}

func get(ctx context.Context, c *http.Client, url string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, body, err
}

func expect200(ctx context.Context, c *http.Client, url string) error {
	code, body, err := get(ctx, c, url)
	if err != nil {
		return err
	}
	if code != http.StatusOK {
		return fmt.Errorf("GET %s: %d %s", url, code, strings.TrimSpace(string(body)))
	}
	return nil
}

func (c *client) etcdHealthy(ctx context.Context) error {
	code, body, err := get(ctx, c.local, c.net.EtcdClientURL()+"/health")
	if err != nil {
		return err
	}
	if code != http.StatusOK || !strings.Contains(string(body), `"health":"true"`) {
		return fmt.Errorf("etcd /health: %d %s", code, strings.TrimSpace(string(body)))
	}
	return nil
}

func (c *client) apiserverReady(ctx context.Context) error {
	return expect200(ctx, c.api, c.net.APIServerURL()+"/readyz")
}

func (c *client) controllerManagerHealthy(ctx context.Context) error {
	return expect200(ctx, c.local, fmt.Sprintf("https://127.0.0.1:%d/healthz", c.net.ControllerPort))
}

func (c *client) schedulerHealthy(ctx context.Context) error {
	return expect200(ctx, c.local, fmt.Sprintf("https://127.0.0.1:%d/healthz", c.net.SchedulerPort))
}

// defaultServiceAccount exists once the serviceaccount controller ran; pods
// in the default namespace are rejected before that.
func (c *client) defaultServiceAccount(ctx context.Context) error {
	return expect200(ctx, c.api, c.net.APIServerURL()+"/api/v1/namespaces/default/serviceaccounts/default")
}

// nodeReady is nil when the node reports condition Ready=True.
func (c *client) nodeReady(ctx context.Context) error {
	code, body, err := get(ctx, c.api, c.net.APIServerURL()+"/api/v1/nodes/"+NodeName)
	if err != nil {
		return err
	}
	if code != http.StatusOK {
		return fmt.Errorf("node %s: %d", NodeName, code)
	}
	var n struct {
		Status struct {
			Conditions []struct{ Type, Status, Reason string } `json:"conditions"`
		} `json:"status"`
	}
	if err := json.Unmarshal(body, &n); err != nil {
		return fmt.Errorf("decode node %s: %w", NodeName, err)
	}
	for _, cond := range n.Status.Conditions {
		if cond.Type == "Ready" {
			if cond.Status == "True" {
				return nil
			}
			return fmt.Errorf("node %s Ready=%s (%s)", NodeName, cond.Status, cond.Reason)
		}
	}
	return fmt.Errorf("node %s has no Ready condition yet", NodeName)
}

// waitFor polls p every 50 ms until it passes, the component dies or the
// timeout expires; the error names the last failure.
func waitFor(ctx context.Context, timeout time.Duration, p probe, alive func() bool) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		pctx, pcancel := context.WithTimeout(ctx, time.Second)
		last = p(pctx)
		pcancel()
		if last == nil {
			return nil
		}
		if alive != nil && !alive() {
			return fmt.Errorf("process exited: %w", last)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not healthy after %s: %w", timeout, last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
