package main

import (
	"flag"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

func parse(t *testing.T, args ...string) *config {
	t.Helper()
	fs := flag.NewFlagSet("arl-operator", flag.ContinueOnError)
	c := bindFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestDefaults(t *testing.T) {
	t.Setenv("POD_NAMESPACE", "")
	c := parse(t)
	if c.sidecarImage != "ghcr.io/arl-infra/arl-sidecar:v0.1.0" || c.webhookPort != 9443 || c.namespace != "arl-system" ||
		c.webhookCertSecret != "arl-webhook-cert" || c.webhookService != "arl-webhook-service" || c.leaderElect || !c.events {
		t.Errorf("defaults = %+v", c)
	}
}

func TestLastTaskTimeIntervalFlag(t *testing.T) {
	if c := parse(t); c.lastTaskTimeEvery != 10*time.Second {
		t.Errorf("default --last-task-time-interval = %v, want 10s", c.lastTaskTimeEvery)
	}
	if c := parse(t, "--last-task-time-interval=0"); c.lastTaskTimeEvery != 0 {
		t.Errorf("--last-task-time-interval=0 gave %v", c.lastTaskTimeEvery)
	}
}

func TestNamespaceFromDownwardAPI(t *testing.T) {
	t.Setenv("POD_NAMESPACE", "elsewhere")
	if c := parse(t); c.namespace != "elsewhere" {
		t.Errorf("namespace = %s", c.namespace)
	}
}

func TestCacheOptionsTrimTheCache(t *testing.T) {
	c := parse(t, "--webhook-config=my-config")
	opts := cacheOptions(c)
	if opts.DefaultTransform == nil {
		t.Error("managed fields are not stripped")
	}
	for obj, by := range opts.ByObject {
		switch obj.(type) {
		case *corev1.Pod, *networkingv1.NetworkPolicy:
			if !by.Label.Matches(labels.Set{arlv1.LabelPool: "p"}) || by.Label.Matches(labels.Set{"app": "other"}) {
				t.Errorf("%T selector %s", obj, by.Label)
			}
			if _, isPod := obj.(*corev1.Pod); isPod && by.Transform == nil {
				t.Error("pool pods are not trimmed")
			}
		case *arlv1.Task:
			if by.Transform == nil {
				t.Error("finished tasks are not trimmed")
			}
		case *admissionregistrationv1.ValidatingWebhookConfiguration:
			if !by.Field.Matches(fields.Set{"metadata.name": "my-config"}) || by.Field.Matches(fields.Set{"metadata.name": "x"}) {
				t.Errorf("webhook configuration selector %s", by.Field)
			}
		default:
			t.Errorf("unexpected cache restriction for %T", obj)
		}
	}
}

func TestManagerOptions(t *testing.T) {
	c := parse(t, "--leader-elect=true", "--enable-webhooks=false")
	opts := managerOptions(c, runtime.NewScheme())
	if !opts.LeaderElection || opts.LeaderElectionID == "" || opts.LeaderElectionNamespace != c.namespace || opts.WebhookServer != nil {
		t.Errorf("options = %+v", opts)
	}
	if *opts.RenewDeadline >= *opts.LeaseDuration || *opts.RetryPeriod >= *opts.RenewDeadline {
		t.Errorf("lease timings %v/%v/%v", *opts.LeaseDuration, *opts.RenewDeadline, *opts.RetryPeriod)
	}
	if managerOptions(parse(t), runtime.NewScheme()).WebhookServer == nil {
		t.Error("webhooks on by default but no server")
	}
}
