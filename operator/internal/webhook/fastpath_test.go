package webhook

import (
	"context"
	"fmt"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

const (
	taskWebhookPath    = "/validate-arl-infra-io-v1alpha1-task"
	sandboxWebhookPath = "/validate-arl-infra-io-v1alpha1-sandbox"
)

// taskWebhookCalls counts the requests the Task webhook has served.
func taskWebhookCalls(t *testing.T) float64 { return webhookCalls(t, taskWebhookPath) }

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

// Every case of the webhook's own table gets the same verdict through the
// API server, whether its matchConditions send it to the webhook or not;
// the common shapes are admitted without calling the webhook.
func TestTaskMatchConditionsNeverAdmitWhatTheWebhookDenies(t *testing.T) {
	env := suite.Env(t)
	ctx := context.Background()
	ns, err := env.Namespace(ctx, "fastpath")
	if err != nil {
		t.Fatal(err)
	}
	fastPath := map[string]bool{"manual quick start": true, "lowercase and dotted env name": false, "compound timeout": false}
	for i, tc := range taskCases {
		t.Run(tc.name, func(t *testing.T) {
			task := goodTask()
			tc.mutate(task)
			task.Name, task.Namespace = fmt.Sprintf("case-%d", i), ns
			before := taskWebhookCalls(t)
			err := env.Client.Create(ctx, task)
			calls := taskWebhookCalls(t) - before
			switch {
			case tc.want == nil && err != nil:
				t.Fatalf("a valid task was denied: %v", err)
			case tc.want != nil && err == nil:
				t.Fatalf("an invalid task was admitted (webhook calls: %v); the webhook denies it with %q", calls, tc.want)
			}
			if fast, listed := fastPath[tc.name]; listed {
				if fast && calls != 0 {
					t.Errorf("the webhook was called %v times for a task the matchConditions prove valid", calls)
				}
				if !fast && calls == 0 {
					t.Errorf("the webhook was not called for a shape the matchConditions leave to it")
				}
			}
		})
	}
}

// A metadata-only update (labels, finalizers) skips the webhook; a spec
// change is denied by it.
func TestTaskUpdatesCallTheWebhookOnlyForSpecChanges(t *testing.T) {
	env := suite.Env(t)
	ctx := context.Background()
	ns, err := env.Namespace(ctx, "fastupdate")
	if err != nil {
		t.Fatal(err)
	}
	task := goodTask()
	task.Namespace = ns
	if err := env.Client.Create(ctx, task); err != nil {
		t.Fatal(err)
	}
	before := taskWebhookCalls(t)
	task.Labels = map[string]string{"team": "a"}
	if err := env.Client.Update(ctx, task); err != nil {
		t.Fatal(err)
	}
	if calls := taskWebhookCalls(t) - before; calls != 0 {
		t.Errorf("a label change called the webhook %v times", calls)
	}
	changed := &arlv1.Task{}
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(task), changed); err != nil {
		t.Fatal(err)
	}
	changed.Spec.SandboxRef = "elsewhere"
	if err := env.Client.Update(ctx, changed); err == nil || !strings.Contains(err.Error(), "immutable") {
		t.Fatalf("spec change: %v, want immutable", err)
	}
}

// The same for Sandboxes: what the webhook denies is denied, the manual's
// shape skips the webhook.
func TestSandboxMatchConditionsNeverAdmitWhatTheWebhookDenies(t *testing.T) {
	env := suite.Env(t)
	ctx := context.Background()
	ns, err := env.Namespace(ctx, "fastsandbox")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		objName string // default sb-<index>
		spec    arlv1.SandboxSpec
		valid   bool
		webhook bool
	}{
		{"the manual's", "", arlv1.SandboxSpec{PoolRef: "python-pool", KeepAlive: true}, true, false},
		{"idle timeout", "", arlv1.SandboxSpec{PoolRef: "python-pool", IdleTimeoutSeconds: ptr.To[int32](600)}, true, false},
		{"dotted pool name", "", arlv1.SandboxSpec{PoolRef: "pools.team-a"}, true, false},
		{"uppercase pool name", "", arlv1.SandboxSpec{PoolRef: "Python-Pool"}, false, true},
		{"pool name with underscore", "", arlv1.SandboxSpec{PoolRef: "python_pool"}, false, true},
		{"no pool", "", arlv1.SandboxSpec{}, false, true},
		{"zero idle timeout", "", arlv1.SandboxSpec{PoolRef: "p", IdleTimeoutSeconds: ptr.To[int32](0)}, false, true},
		{"name over 63 characters", strings.Repeat("a", 64), arlv1.SandboxSpec{PoolRef: "p"}, false, true},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			name := tc.objName
			if name == "" {
				name = fmt.Sprintf("sb-%d", i)
			}
			sb := &arlv1.Sandbox{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: tc.spec}
			wantErr := !tc.valid
			if _, err := (&SandboxValidator{}).ValidateCreate(ctx, sb); (err != nil) != wantErr {
				t.Fatalf("case disagrees with the webhook: %v", err)
			}
			before := webhookCalls(t, sandboxWebhookPath)
			err := env.Client.Create(ctx, sb)
			calls := webhookCalls(t, sandboxWebhookPath) - before
			if (err != nil) != wantErr {
				t.Fatalf("create: %v, want denied=%v", err, wantErr)
			}
			if !tc.webhook && calls != 0 {
				t.Errorf("the webhook was called %v times for a sandbox the matchConditions prove valid", calls)
			}
		})
	}
}
