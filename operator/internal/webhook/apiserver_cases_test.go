package webhook

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

// webhookPaths are where the webhooks are served, by kind (Sandboxes have
// no webhook).
var webhookPaths = map[string]string{
	"Task":     "/validate-arl-infra-io-v1alpha1-task",
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
// the table's, and the webhook is called only where the table says CEL
// cannot decide (a WarmPool's template, a Task path with a dot segment).
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
			path := webhookPaths[c.Kind]
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
			if want := webhookDecides(c, obj); (calls > 0) != want {
				t.Errorf("webhook calls: %v, want a call: %v", calls, want)
			}
		})
	}
}

// webhookDecides says whether the API server should call the webhook for
// the case: only for objects the schema accepts, and for a Task only when a
// path has a "." or ".." segment (the webhook's matchConditions).
func webhookDecides(c validationCase, obj *unstructured.Unstructured) bool {
	if !c.valid() && !c.Webhook {
		return false // the schema denies it first
	}
	switch c.Kind {
	case "WarmPool":
		return true
	case "Task":
		steps, _, _ := unstructured.NestedSlice(obj.Object, "spec", "steps")
		for _, s := range steps {
			if p, _ := s.(map[string]any)["path"].(string); strings.Contains(p, "/.") {
				return true
			}
		}
	}
	return false
}

// Updates never reach the Task webhook: metadata changes are admitted and
// a spec change is denied by the schema's CEL.
func TestTaskUpdatesNeverCallTheWebhook(t *testing.T) {
	env := suite.Env(t)
	ctx := context.Background()
	ns, err := env.Namespace(ctx, "taskupdate")
	if err != nil {
		t.Fatal(err)
	}
	task := goodTask()
	task.Namespace = ns
	task.Spec.Steps[0].Path = "/workspace/./hello.py" // a create that calls the webhook
	if err := env.Client.Create(ctx, task); err != nil {
		t.Fatal(err)
	}
	path := webhookPaths["Task"]
	before := webhookCalls(t, path)
	task.Labels = map[string]string{"team": "a"}
	if err := env.Client.Update(ctx, task); err != nil {
		t.Fatal(err)
	}
	changed := &arlv1.Task{}
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(task), changed); err != nil {
		t.Fatal(err)
	}
	changed.Spec.SandboxRef = "elsewhere"
	if err := env.Client.Update(ctx, changed); err == nil || !strings.Contains(err.Error(), "spec is immutable") {
		t.Fatalf("spec change: %v, want spec is immutable", err)
	}
	if calls := webhookCalls(t, path) - before; calls != 0 {
		t.Errorf("updates called the webhook %v times", calls)
	}
}
