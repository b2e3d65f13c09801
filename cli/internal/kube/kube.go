// Package kube builds the Kubernetes clients the plugin uses from kubectl's
// usual flags (--kubeconfig, --context, -n, ...): a controller-runtime client
// over the operator's API types with a static REST mapping (no discovery
// round trip on a command's path), and a client-go clientset for logs and
// port-forward.
package kube

import (
	"fmt"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

// Scheme knows the core types the plugin touches and ARL's types.
var Scheme = newScheme()

func newScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	if err := corev1.AddToScheme(s); err != nil {
		panic(err)
	}
	if err := arlv1.AddToScheme(s); err != nil {
		panic(err)
	}
	return s
}

// restMapper maps the few kinds the plugin uses without asking the API
// server's discovery endpoints.
func restMapper() meta.RESTMapper {
	m := meta.NewDefaultRESTMapper([]schema.GroupVersion{corev1.SchemeGroupVersion, arlv1.GroupVersion})
	add := func(gv schema.GroupVersion, kind, plural string) {
		m.AddSpecific(gv.WithKind(kind), gv.WithResource(plural), gv.WithResource(strings.ToLower(kind)), meta.RESTScopeNamespace)
	}
	add(corev1.SchemeGroupVersion, "Pod", "pods")
	add(corev1.SchemeGroupVersion, "Secret", "secrets")
	add(arlv1.GroupVersion, "Sandbox", "sandboxes")
	add(arlv1.GroupVersion, "Task", "tasks")
	add(arlv1.GroupVersion, "WarmPool", "warmpools")
	return m
}

// Clients are the API clients of one invocation, built lazily once.
type Clients struct {
	Flags *genericclioptions.ConfigFlags

	once      sync.Once
	err       error
	config    *rest.Config
	namespace string
	client    client.WithWatch
	csOnce    sync.Once
	csErr     error
	clientset *kubernetes.Clientset
}

// NewClients reads the connection settings from kubectl's flags.
func NewClients(flags *genericclioptions.ConfigFlags) *Clients {
	return &Clients{Flags: flags}
}

func (c *Clients) init() error {
	c.once.Do(func() {
		loader := c.Flags.ToRawKubeConfigLoader()
		cfg, err := loader.ClientConfig()
		if err != nil {
			c.err = fmt.Errorf("loading the kubeconfig (set KUBECONFIG or --kubeconfig): %w", err)
			return
		}
		cfg.QPS, cfg.Burst = 50, 100
		ns, _, err := loader.Namespace()
		if err != nil {
			c.err = fmt.Errorf("reading the namespace from the kubeconfig: %w", err)
			return
		}
		cl, err := client.NewWithWatch(cfg, client.Options{Scheme: Scheme, Mapper: restMapper()})
		if err != nil {
			c.err = fmt.Errorf("building the Kubernetes client: %w", err)
			return
		}
		c.config, c.namespace, c.client = cfg, ns, cl
	})
	return c.err
}

// Config is the REST config of the selected context.
func (c *Clients) Config() (*rest.Config, error) {
	if err := c.init(); err != nil {
		return nil, err
	}
	return c.config, nil
}

// Namespace is --namespace, else the context's namespace, else "default".
func (c *Clients) Namespace() (string, error) {
	if err := c.init(); err != nil {
		return "", err
	}
	return c.namespace, nil
}

// Client is the controller-runtime client (with watch) over ARL's types.
func (c *Clients) Client() (client.WithWatch, error) {
	if err := c.init(); err != nil {
		return nil, err
	}
	return c.client, nil
}

// Clientset is client-go's typed clientset (logs, port-forward).
func (c *Clients) Clientset() (*kubernetes.Clientset, error) {
	if err := c.init(); err != nil {
		return nil, err
	}
	c.csOnce.Do(func() {
		c.clientset, c.csErr = kubernetes.NewForConfig(c.config)
		if c.csErr != nil {
			c.csErr = fmt.Errorf("building the clientset: %w", c.csErr)
		}
	})
	return c.clientset, c.csErr
}
