// Package kube builds the Kubernetes clients the plugin uses from kubectl's
// usual flags (--kubeconfig, --context, -n, ...): a controller-runtime client
// over the operator's API types with a static REST mapping (no discovery
// round trip on a command's path), and a client-go clientset for logs and
// port-forward (a core/v1 REST client: client-go's typed clientset would
// register every Kubernetes type at start-up, which each command pays).
package kube

import (
	"fmt"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/cli-runtime/pkg/genericclioptions"
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
	coreOnce  sync.Once
	coreErr   error
	core      *rest.RESTClient
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

// CoreREST is a REST client for the core/v1 API (pod logs, port-forward).
func (c *Clients) CoreREST() (*rest.RESTClient, error) {
	if err := c.init(); err != nil {
		return nil, err
	}
	c.coreOnce.Do(func() {
		cfg := rest.CopyConfig(c.config)
		cfg.GroupVersion = &corev1.SchemeGroupVersion
		cfg.APIPath = "/api"
		cfg.NegotiatedSerializer = serializer.NewCodecFactory(Scheme).WithoutConversion()
		c.core, c.coreErr = rest.RESTClientFor(cfg)
		if c.coreErr != nil {
			c.coreErr = fmt.Errorf("building the core/v1 client: %w", c.coreErr)
		}
	})
	return c.core, c.coreErr
}
