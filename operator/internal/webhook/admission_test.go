package webhook

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

// The manual's objects are admitted with their defaults, and the updates
// the manual makes or forbids get the API server's answer (the create
// cases are in testdata/validation_cases.yaml).
func TestAdmissionThroughTheAPIServer(t *testing.T) {
	env := suite.Env(t)
	ctx := context.Background()
	ns, err := env.Namespace(ctx, "wh")
	if err != nil {
		t.Fatal(err)
	}
	c := env.Client

	t.Run("the manual's objects are accepted", func(t *testing.T) {
		pool := goodPool()
		pool.Namespace = ns
		sb := &arlv1.Sandbox{ObjectMeta: metav1.ObjectMeta{Name: "my-workspace", Namespace: ns}, Spec: arlv1.SandboxSpec{PoolRef: "python-pool", KeepAlive: true}}
		task := goodTask()
		task.Namespace = ns
		for _, obj := range []client.Object{pool, sb, task} {
			if err := c.Create(ctx, obj); err != nil {
				t.Fatalf("create %T: %v", obj, err)
			}
		}
		got := &arlv1.Task{}
		if err := c.Get(ctx, client.ObjectKeyFromObject(task), got); err != nil {
			t.Fatal(err)
		}
		if got.Spec.Timeout.Duration != 30*time.Second || got.Spec.Retries != 0 {
			t.Errorf("defaults: %+v", got.Spec)
		}
	})

	t.Run("denied: changing poolRef", func(t *testing.T) {
		sb := &arlv1.Sandbox{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "my-workspace"}, sb); err != nil {
			t.Fatal(err)
		}
		sb.Spec.PoolRef = "other-pool"
		err := c.Update(ctx, sb)
		if err == nil || !strings.Contains(err.Error(), "poolRef is immutable") {
			t.Fatalf("update = %v, want poolRef is immutable", err)
		}
	})

	t.Run("denied: changing a task's spec", func(t *testing.T) {
		tk := &arlv1.Task{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "hello-task"}, tk); err != nil {
			t.Fatal(err)
		}
		tk.Spec.Retries = 3
		err := c.Update(ctx, tk)
		if err == nil || !strings.Contains(err.Error(), "immutable") {
			t.Fatalf("update = %v, want immutable", err)
		}
	})

	t.Run("allowed: scaling a pool and changing its template", func(t *testing.T) {
		pool := &arlv1.WarmPool{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "python-pool"}, pool); err != nil {
			t.Fatal(err)
		}
		pool.Spec.Replicas = ptr.To[int32](5)
		pool.Spec.Template.Spec.Containers[0].Image = "python:3.12-slim"
		pool.Spec.Template.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "A", Value: "b"}}
		if err := c.Update(ctx, pool); err != nil {
			t.Fatal(err)
		}
	})
}
