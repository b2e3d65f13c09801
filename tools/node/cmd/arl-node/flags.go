package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/arl-infra/arl/tools/node/internal/provider"
)

type runOptions struct {
	kubeconfig    string
	nodeName      string
	stateDir      string
	podCIDR       string
	bridge        string
	routes        []netip.Prefix
	kubeletAddr   string
	kubeletCert   string
	kubeletKey    string
	clientCA      string
	apiserverHost string
	apiserverPort int
	metricsAddr   string
	taints        []corev1.Taint
	images        provider.ImageBinaries
	hiddenDirs    []string
}

func parseRunFlags(args []string) (runOptions, error) {
	o := runOptions{images: provider.ImageBinaries{}}
	fs := flag.NewFlagSet("arl-node", flag.ContinueOnError)
	fs.StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig of the cluster to join (required)")
	fs.StringVar(&o.nodeName, "node-name", "arl-node", "name of the Node object")
	fs.StringVar(&o.stateDir, "state-dir", "", "directory for pod files, logs and IPAM state (required)")
	fs.StringVar(&o.podCIDR, "pod-cidr", "10.244.0.0/24", "pod addresses; the first host address is the bridge's")
	fs.StringVar(&o.bridge, "bridge", "arl0", "host bridge the pods' veths attach to")
	fs.Func("route", "CIDR pods reach through the bridge's gateway (the host), e.g. another node's pod network on this machine; repeatable", func(v string) error {
		p, err := netip.ParsePrefix(v)
		if err != nil || !p.Addr().Is4() {
			return fmt.Errorf("--route %q: want an IPv4 CIDR such as 10.245.0.0/24", v)
		}
		o.routes = append(o.routes, p.Masked())
		return nil
	})
	fs.StringVar(&o.kubeletAddr, "kubelet-addr", "127.0.0.1:10250", "address of the kubelet API (logs, exec, port-forward)")
	fs.StringVar(&o.kubeletCert, "kubelet-cert", "", "TLS certificate of the kubelet API")
	fs.StringVar(&o.kubeletKey, "kubelet-key", "", "TLS key of the kubelet API")
	fs.StringVar(&o.clientCA, "client-ca", "", "CA that signs the client certificates the kubelet API accepts")
	fs.StringVar(&o.apiserverHost, "apiserver-host", "10.244.0.1", "KUBERNETES_SERVICE_HOST given to containers")
	fs.IntVar(&o.apiserverPort, "apiserver-port", 6443, "KUBERNETES_SERVICE_PORT given to containers")
	fs.StringVar(&o.metricsAddr, "metrics-addr", "", "serve Prometheus metrics on this address (off when empty)")
	fs.Func("register-with-taint", "KEY=VALUE:EFFECT taint the Node is registered with (as a kubelet's --register-with-taints); repeatable", func(v string) error {
		t, err := parseTaint(v)
		if err != nil {
			return err
		}
		o.taints = append(o.taints, t)
		return nil
	})
	fs.Func("hide-dir", "host directory no container sees (covered by an empty tmpfs); repeatable. The state dir and the kubeconfig's directory are always hidden", func(v string) error {
		if !filepath.IsAbs(v) {
			return fmt.Errorf("--hide-dir %q: want an absolute path", v)
		}
		o.hiddenDirs = append(o.hiddenDirs, filepath.Clean(v))
		return nil
	})
	fs.Func("image-binary", "IMAGE=PATH: run PATH for containers of IMAGE (tag ignored); repeatable", func(v string) error {
		image, path, err := provider.ParseImageBinary(v)
		if err != nil {
			return err
		}
		o.images[image] = path
		return nil
	})
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	var missing []error
	for name, v := range map[string]string{"kubeconfig": o.kubeconfig, "state-dir": o.stateDir} {
		if v == "" {
			missing = append(missing, fmt.Errorf("--%s is required", name))
		}
	}
	if (o.kubeletCert == "") != (o.kubeletKey == "") {
		missing = append(missing, errors.New("--kubelet-cert and --kubelet-key go together"))
	}
	if _, _, err := net.SplitHostPort(o.kubeletAddr); err != nil {
		missing = append(missing, fmt.Errorf("--kubelet-addr: %w", err))
	}
	return o, errors.Join(missing...)
}

// hidden is every host directory the node covers in containers: the
// --hide-dir ones, its state dir and its kubeconfig's directory.
func (o runOptions) hidden(stateDir string) ([]string, error) {
	kubeconfigDir, err := filepath.Abs(filepath.Dir(o.kubeconfig))
	if err != nil {
		return nil, fmt.Errorf("kubeconfig directory: %w", err)
	}
	dirs := append([]string{stateDir, kubeconfigDir}, o.hiddenDirs...)
	slices.Sort(dirs)
	return slices.Compact(dirs), nil
}

func (o runOptions) kubeletHostPort() (string, int32) {
	host, port, _ := net.SplitHostPort(o.kubeletAddr)
	p, _ := strconv.Atoi(port)
	return host, int32(p)
}

// parseTaint parses KEY[=VALUE]:EFFECT.
func parseTaint(v string) (corev1.Taint, error) {
	kv, effect, ok := strings.Cut(v, ":")
	if !ok {
		return corev1.Taint{}, fmt.Errorf("taint %q: want KEY[=VALUE]:EFFECT", v)
	}
	key, value, _ := strings.Cut(kv, "=")
	switch e := corev1.TaintEffect(effect); e {
	case corev1.TaintEffectNoSchedule, corev1.TaintEffectPreferNoSchedule, corev1.TaintEffectNoExecute:
		return corev1.Taint{Key: key, Value: value, Effect: e}, nil
	}
	return corev1.Taint{}, fmt.Errorf("taint %q: effect must be NoSchedule, PreferNoSchedule or NoExecute", v)
}

type cleanupOptions struct {
	stateDir string
	bridge   string
}

func parseCleanupFlags(args []string) (cleanupOptions, error) {
	var o cleanupOptions
	fs := flag.NewFlagSet("arl-node cleanup", flag.ContinueOnError)
	fs.StringVar(&o.stateDir, "state-dir", "", "the node's state directory (required)")
	fs.StringVar(&o.bridge, "bridge", "arl0", "host bridge to remove")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.stateDir == "" {
		return o, errors.New("--state-dir is required")
	}
	return o, nil
}
