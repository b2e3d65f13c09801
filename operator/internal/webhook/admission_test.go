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

// The API server's answers, through the CRD schema, CEL and the webhooks.
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

	denials := []struct {
		name string
		obj  func() client.Object
		want []string
	}{
		{"pool without executor", func() client.Object {
			p := goodPool()
			p.Name, p.Namespace = "no-exec", ns
			p.Spec.Template.Spec.Containers[0].Name = "main"
			return p
		}, []string{`vwarmpool.arl.infra.io`, `named "executor"`}},
		{"privileged injected containers", func() client.Object {
			p := goodPool()
			p.Name, p.Namespace = "privileged", ns
			p.Spec.Injected = &arlv1.InjectedContainers{SecurityContext: &corev1.SecurityContext{Privileged: ptr.To(true)}}
			return p
		}, []string{`vwarmpool.arl.infra.io`, "spec.injected.securityContext.privileged", "need no privileges"}},
		{"negative replicas", func() client.Object {
			p := goodPool()
			p.Name, p.Namespace = "neg", ns
			p.Spec.Replicas = ptr.To[int32](-1)
			return p
		}, []string{"spec.replicas", "0"}},
		{"sandbox without poolRef", func() client.Object {
			return &arlv1.Sandbox{ObjectMeta: metav1.ObjectMeta{Name: "nopool", Namespace: ns}}
		}, []string{"spec.poolRef"}},
		{"task without sandboxRef", func() client.Object {
			tk := goodTask()
			tk.Name, tk.Namespace, tk.Spec.SandboxRef = "noref", ns, ""
			return tk
		}, []string{"spec.sandboxRef"}},
		{"task without steps", func() client.Object {
			tk := goodTask()
			tk.Name, tk.Namespace, tk.Spec.Steps = "nosteps", ns, nil
			return tk
		}, []string{"spec.steps"}},
		{"unknown step type", func() client.Object {
			tk := goodTask()
			tk.Name, tk.Namespace = "badtype", ns
			tk.Spec.Steps[1].Type = "Shell"
			return tk
		}, []string{"spec.steps[1].type", "Shell"}},
		{"FilePatch without path", func() client.Object {
			tk := goodTask()
			tk.Name, tk.Namespace = "nopath", ns
			tk.Spec.Steps[0].Path = ""
			return tk
		}, []string{"FilePatch step needs a path"}},
		{"escaping path", func() client.Object {
			tk := goodTask()
			tk.Name, tk.Namespace = "escape", ns
			tk.Spec.Steps[0].Path = "/workspace/../../etc/passwd"
			return tk
		}, []string{"vtask.arl.infra.io", "spec.steps[0].path", "must stay inside /workspace"}},
		{"relative path", func() client.Object {
			tk := goodTask()
			tk.Name, tk.Namespace = "relative", ns
			tk.Spec.Steps[0].Path = "hello.py"
			return tk
		}, []string{"vtask.arl.infra.io", "absolute path inside /workspace"}},
		{"Command with empty argv", func() client.Object {
			tk := goodTask()
			tk.Name, tk.Namespace = "noargv", ns
			tk.Spec.Steps[1].Command = []string{}
			return tk
		}, []string{"Command step needs a non-empty command"}},
		{"Command with content", func() client.Object {
			tk := goodTask()
			tk.Name, tk.Namespace = "content", ns
			tk.Spec.Steps[1].Content = "print(1)"
			return tk
		}, []string{"vtask.arl.infra.io", "content belongs to FilePatch steps"}},
		{"timeout zero", func() client.Object {
			tk := goodTask()
			tk.Name, tk.Namespace = "t0", ns
			tk.Spec.Timeout = &metav1.Duration{}
			return tk
		}, []string{"spec.timeout", "positive"}},
		{"timeout over a day", func() client.Object {
			tk := goodTask()
			tk.Name, tk.Namespace = "t25h", ns
			tk.Spec.Timeout = &metav1.Duration{Duration: 25 * time.Hour}
			return tk
		}, []string{"spec.timeout", "24h"}},
		{"retries out of range", func() client.Object {
			tk := goodTask()
			tk.Name, tk.Namespace = "r11", ns
			tk.Spec.Retries = 11
			return tk
		}, []string{"spec.retries", "10"}},
		{"duplicate step names", func() client.Object {
			tk := goodTask()
			tk.Name, tk.Namespace = "dup", ns
			tk.Spec.Steps[1].Name = "write-code"
			return tk
		}, []string{"vtask.arl.infra.io", "Duplicate value", "write-code"}},
	}
	for _, d := range denials {
		t.Run("denied: "+d.name, func(t *testing.T) {
			err := c.Create(ctx, d.obj())
			if err == nil {
				t.Fatalf("the API server accepted it; want a denial mentioning %q", d.want)
			}
			t.Logf("denied: %v", err)
			for _, w := range d.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("denial %q lacks %q", err.Error(), w)
				}
			}
		})
	}

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
