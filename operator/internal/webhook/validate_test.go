package webhook

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

func goodTask() *arlv1.Task {
	return &arlv1.Task{
		ObjectMeta: metav1.ObjectMeta{Name: "hello-task"},
		Spec: arlv1.TaskSpec{
			SandboxRef: "my-workspace",
			Timeout:    &metav1.Duration{Duration: 30 * time.Second},
			Steps: []arlv1.TaskStep{
				{Name: "write-code", Type: arlv1.StepTypeFilePatch, Path: "/workspace/hello.py", Content: "print(1)\n"},
				{Name: "run-code", Type: arlv1.StepTypeCommand, Command: []string{"python", "/workspace/hello.py"}, WorkDir: "/workspace", Env: map[string]string{"DEBUG": "true"}},
			},
		},
	}
}

func goodPool() *arlv1.WarmPool {
	return &arlv1.WarmPool{
		ObjectMeta: metav1.ObjectMeta{Name: "python-pool"},
		Spec: arlv1.WarmPoolSpec{Replicas: ptr.To[int32](3), Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "executor", Image: "python:3.9-slim"}},
		}}},
	}
}

// The WarmPool webhook's part of the case table, without an API server: they
// deny the cases marked webhook (with the table's words, less the webhook
// name the API server adds) and admit every valid case. Cases the schema
// denies never reach them.
func TestWebhookValidationCases(t *testing.T) {
	table := loadCaseTable(t)
	ctx := context.Background()
	for _, c := range table.Cases {
		if !c.valid() && !c.Webhook {
			continue // denied by the schema before any webhook runs
		}
		t.Run(c.Kind+"/"+c.Name, func(t *testing.T) {
			obj := table.object(t, c)
			var err error
			switch c.Kind {
			case "WarmPool":
				pool := &arlv1.WarmPool{}
				fromUnstructured(t, obj.Object, pool)
				_, err = (&WarmPoolValidator{}).ValidateCreate(ctx, pool)
				if err == nil {
					_, err = (&WarmPoolValidator{}).ValidateUpdate(ctx, goodPool(), pool)
				}
			case "Task", "Sandbox":
				if c.Webhook {
					t.Fatalf("%ss have no webhook: their schema decides", c.Kind)
				}
				return
			default:
				t.Fatalf("unknown kind %q", c.Kind)
			}
			var want []string
			for _, w := range c.Want {
				if !strings.HasSuffix(w, ".arl.infra.io") { // the webhook's name, added by the API server
					want = append(want, w)
				}
			}
			assertDenial(t, err, want)
		})
	}
}

func fromUnstructured(t *testing.T, obj map[string]any, into any) {
	t.Helper()
	if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(obj, into, true); err != nil {
		t.Fatal(err)
	}
}

func assertDenial(t *testing.T, err error, want []string) {
	t.Helper()
	if len(want) == 0 {
		if err != nil {
			t.Fatalf("denied a valid object: %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("allowed an invalid object; want a denial mentioning %q", want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("message %q lacks %q", err.Error(), w)
		}
	}
}
