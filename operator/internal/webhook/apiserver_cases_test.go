package webhook

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// webhookPaths are where the webhooks are served, by kind (Tasks and
// Sandboxes have none).
var webhookPaths = map[string]string{
	"WarmPool": "/validate-arl-infra-io-v1alpha1-warmpool",
}

// webhookCalls counts the requests the webhook at path has served.
func webhookCalls(t *testing.T, path string) float64 {
	t.Helper()
	families, err := metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	total := 0.0
	for _, f := range families {
		if f.GetName() != "controller_runtime_webhook_requests_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "webhook" && l.GetValue() == path {
					total += m.GetCounter().GetValue()
				}
			}
		}
	}
	return total
}

// Every case of the table through a real kube-apiserver with the generated
// CRDs and webhook configuration: the verdict and the denial's words are
// the table's, and the webhook is called only where CEL cannot decide (a
// WarmPool's template).
func TestValidationCasesThroughTheAPIServer(t *testing.T) {
	env := suite.Env(t)
	ctx := context.Background()
	ns, err := env.Namespace(ctx, "cases")
	if err != nil {
		t.Fatal(err)
	}
	table := loadCaseTable(t)
	for i, c := range table.Cases {
		t.Run(c.Kind+"/"+c.Name, func(t *testing.T) {
			obj := table.object(t, c)
			obj.SetNamespace(ns)
			if _, named := c.Set["metadata.name"]; !named {
				obj.SetName(fmt.Sprintf("case-%d", i))
			}
			path, hasWebhook := webhookPaths[c.Kind]
			before := webhookCalls(t, path)
			err := env.Client.Create(ctx, obj)
			calls := webhookCalls(t, path) - before
			switch {
			case c.valid() && err != nil:
				t.Fatalf("a valid %s was denied: %v", c.Kind, err)
			case !c.valid() && err == nil:
				t.Fatalf("an invalid %s was admitted; want a denial mentioning %q", c.Kind, c.Want)
			}
			if err != nil {
				t.Logf("denied: %v", err)
			}
			for _, w := range c.Want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("denial %q lacks %q", err.Error(), w)
				}
			}
			if want := webhookDecides(c); hasWebhook && (calls > 0) != want {
				t.Errorf("webhook calls: %v, want a call: %v", calls, want)
			}
		})
	}
}

// webhookDecides says whether the API server should call a webhook for the
// case: only the WarmPool webhook exists, and only objects the schema
// accepts reach it.
func webhookDecides(c validationCase) bool {
	return c.Kind == "WarmPool" && (c.valid() || c.Webhook)
}
