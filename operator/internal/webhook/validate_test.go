package webhook

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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

// taskCase is one Task spec and the denial expected (none: valid). The
// admission tests send every case through the API server as well.
type taskCase struct {
	name   string
	mutate func(*arlv1.Task)
	want   []string // substrings of the message; none = valid
}

var taskCases = []taskCase{
	{"manual quick start", func(*arlv1.Task) {}, nil},
	{"nested path inside workspace", func(t *arlv1.Task) { t.Spec.Steps[0].Path = "/workspace/a/b/../c.py" }, nil},
	{"missing sandboxRef", func(t *arlv1.Task) { t.Spec.SandboxRef = "" }, []string{"spec.sandboxRef", "Required"}},
	{"no steps", func(t *arlv1.Task) { t.Spec.Steps = nil }, []string{"spec.steps", "at least one step"}},
	{"unknown step type", func(t *arlv1.Task) { t.Spec.Steps[1].Type = "Shell" }, []string{"spec.steps[1].type", `"Shell"`, "FilePatch", "Command"}},
	{"FilePatch without path", func(t *arlv1.Task) { t.Spec.Steps[0].Path = "" }, []string{"spec.steps[0].path", "needs the path"}},
	{"relative path", func(t *arlv1.Task) { t.Spec.Steps[0].Path = "hello.py" }, []string{"spec.steps[0].path", "absolute path inside /workspace"}},
	{"escaping path", func(t *arlv1.Task) { t.Spec.Steps[0].Path = "/workspace/../etc/passwd" }, []string{"spec.steps[0].path", "inside /workspace", "/etc/passwd"}},
	{"the workspace itself", func(t *arlv1.Task) { t.Spec.Steps[0].Path = "/workspace/" }, []string{"spec.steps[0].path", "not the directory"}},
	{"Command with empty argv", func(t *arlv1.Task) { t.Spec.Steps[1].Command = nil }, []string{"spec.steps[1].command", "argv"}},
	{"Command with empty program", func(t *arlv1.Task) { t.Spec.Steps[1].Command = []string{""} }, []string{"spec.steps[1].command[0]"}},
	{"relative workDir", func(t *arlv1.Task) { t.Spec.Steps[1].WorkDir = "src" }, []string{"spec.steps[1].workDir", "absolute"}},
	{"FilePatch with command", func(t *arlv1.Task) { t.Spec.Steps[0].Command = []string{"ls"} }, []string{"spec.steps[0].command", "FilePatch step writes a file"}},
	{"Command with content", func(t *arlv1.Task) { t.Spec.Steps[1].Content = "x" }, []string{"spec.steps[1].content", "FilePatch"}},
	{"zero timeout", func(t *arlv1.Task) { t.Spec.Timeout = &metav1.Duration{} }, []string{"spec.timeout", "positive"}},
	{"negative timeout", func(t *arlv1.Task) { t.Spec.Timeout = &metav1.Duration{Duration: -time.Second} }, []string{"spec.timeout", "positive"}},
	{"huge timeout", func(t *arlv1.Task) { t.Spec.Timeout = &metav1.Duration{Duration: 25 * time.Hour} }, []string{"spec.timeout", "24h"}},
	{"retries too high", func(t *arlv1.Task) { t.Spec.Retries = 11 }, []string{"spec.retries", "between 0 and 10"}},
	{"retries negative", func(t *arlv1.Task) { t.Spec.Retries = -1 }, []string{"spec.retries", "between 0 and 10"}},
	{"duplicate step names", func(t *arlv1.Task) { t.Spec.Steps[1].Name = "write-code" }, []string{"spec.steps[1].name", "Duplicate", "write-code"}},
	{"several problems at once", func(t *arlv1.Task) { t.Spec.SandboxRef = ""; t.Spec.Retries = 99 }, []string{"spec.sandboxRef", "spec.retries"}},
	{"hidden file in the workspace", func(t *arlv1.Task) { t.Spec.Steps[0].Path = "/workspace/.env" }, nil},
	{"dot segment inside the workspace", func(t *arlv1.Task) { t.Spec.Steps[0].Path = "/workspace/./a.py" }, nil},
	{"compound timeout", func(t *arlv1.Task) { t.Spec.Timeout = &metav1.Duration{Duration: 90 * time.Minute} }, nil},
	{"timeout of exactly a day", func(t *arlv1.Task) { t.Spec.Timeout = &metav1.Duration{Duration: 24 * time.Hour} }, nil},
	{"nine steps", func(t *arlv1.Task) {
		for i := range 7 {
			t.Spec.Steps = append(t.Spec.Steps, arlv1.TaskStep{Name: fmt.Sprint("more-", i), Type: arlv1.StepTypeCommand, Command: []string{"true"}})
		}
	}, nil},
	{"env name with '='", func(t *arlv1.Task) { t.Spec.Steps[1].Env = map[string]string{"A=B": "c"} }, []string{"spec.steps[1].env[A=B]", "no '='"}},
	{"lowercase and dotted env name", func(t *arlv1.Task) { t.Spec.Steps[1].Env = map[string]string{"my.var": "c"} }, nil},
	{"FilePatch with workDir", func(t *arlv1.Task) { t.Spec.Steps[0].WorkDir = "/workspace" }, []string{"spec.steps[0].workDir", "Command steps only"}},
	{"FilePatch with env", func(t *arlv1.Task) { t.Spec.Steps[0].Env = map[string]string{"A": "b"} }, []string{"spec.steps[0].env", "Command steps only"}},
	{"Command with path", func(t *arlv1.Task) { t.Spec.Steps[1].Path = "/workspace/x" }, []string{"spec.steps[1].path", "FilePatch steps"}},
}

func TestValidateTask(t *testing.T) {
	v := &TaskValidator{}
	for _, tt := range taskCases {
		t.Run(tt.name, func(t *testing.T) {
			task := goodTask()
			tt.mutate(task)
			_, err := v.ValidateCreate(context.Background(), task)
			assertDenial(t, err, tt.want)
		})
	}
}

func TestTaskSpecImmutable(t *testing.T) {
	v := &TaskValidator{}
	old, changed := goodTask(), goodTask()
	changed.Spec.Retries = 2
	_, err := v.ValidateUpdate(context.Background(), old, changed)
	assertDenial(t, err, []string{"spec", "immutable"})

	relabelled := goodTask()
	relabelled.Labels = map[string]string{"a": "b"}
	relabelled.Status.State = arlv1.TaskStateRunning
	_, err = v.ValidateUpdate(context.Background(), old, relabelled)
	assertDenial(t, err, nil)
}

func goodPool() *arlv1.WarmPool {
	return &arlv1.WarmPool{
		ObjectMeta: metav1.ObjectMeta{Name: "python-pool"},
		Spec: arlv1.WarmPoolSpec{Replicas: ptr.To[int32](3), Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "executor", Image: "python:3.9-slim"}},
		}}},
	}
}

func TestValidateWarmPool(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*arlv1.WarmPool)
		want   []string
	}{
		{"manual pool", func(*arlv1.WarmPool) {}, nil},
		{"zero replicas", func(p *arlv1.WarmPool) { p.Spec.Replicas = ptr.To[int32](0) }, nil},
		{"no executor", func(p *arlv1.WarmPool) { p.Spec.Template.Spec.Containers[0].Name = "main" }, []string{"spec.template.spec.containers", `named "executor"`}},
		{"negative replicas", func(p *arlv1.WarmPool) { p.Spec.Replicas = ptr.To[int32](-1) }, []string{"spec.replicas", "0 or more"}},
		{"bad sidecarAuth", func(p *arlv1.WarmPool) { p.Spec.SidecarAuth = "Password" }, []string{"spec.sidecarAuth", "Token", "None"}},
		{"reserved run volume", func(p *arlv1.WarmPool) {
			p.Spec.Template.Spec.Volumes = []corev1.Volume{{Name: "arl-run"}}
		}, []string{"spec.template.spec.volumes[0].name", `"arl-run" is reserved`}},
		{"injected overrides within bounds", func(p *arlv1.WarmPool) {
			p.Spec.Injected = &arlv1.InjectedContainers{
				SecurityContext: &corev1.SecurityContext{RunAsUser: ptr.To[int64](1000), RunAsNonRoot: ptr.To(true),
					Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"DAC_OVERRIDE"}}},
				Resources: &corev1.ResourceRequirements{
					Requests: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("64Mi")},
					Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1Gi")},
				},
			}
		}, nil},
		{"privileged injected containers", func(p *arlv1.WarmPool) {
			p.Spec.Injected = &arlv1.InjectedContainers{SecurityContext: &corev1.SecurityContext{Privileged: ptr.To(true)}}
		}, []string{"spec.injected.securityContext.privileged", "need no privileges"}},
		{"injected containers with SYS_ADMIN", func(p *arlv1.WarmPool) {
			p.Spec.Injected = &arlv1.InjectedContainers{SecurityContext: &corev1.SecurityContext{
				Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"NET_BIND_SERVICE", "SYS_ADMIN"}}}}
		}, []string{"spec.injected.securityContext.capabilities.add[1]", "need no SYS_ADMIN"}},
		{"injected containers with ALL capabilities", func(p *arlv1.WarmPool) {
			p.Spec.Injected = &arlv1.InjectedContainers{SecurityContext: &corev1.SecurityContext{
				Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"ALL"}}}}
		}, []string{"spec.injected.securityContext.capabilities.add[0]", "need no ALL"}},
		{"runAsNonRoot as root", func(p *arlv1.WarmPool) {
			p.Spec.Injected = &arlv1.InjectedContainers{SecurityContext: &corev1.SecurityContext{RunAsUser: ptr.To[int64](0), RunAsNonRoot: ptr.To(true)}}
		}, []string{"spec.injected.securityContext.runAsUser", "never start as user 0"}},
		{"injected request above its limit", func(p *arlv1.WarmPool) {
			p.Spec.Injected = &arlv1.InjectedContainers{Resources: &corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("2Gi")},
				Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1Gi")},
			}}
		}, []string{"spec.injected.resources.requests[memory]", "less than or equal to the limit 1Gi"}},
		{"negative injected limit", func(p *arlv1.WarmPool) {
			p.Spec.Injected = &arlv1.InjectedContainers{Resources: &corev1.ResourceRequirements{
				Limits: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("-1")},
			}}
		}, []string{"spec.injected.resources.limits[cpu]", "0 or more"}},
		{"reserved sidecar name", func(p *arlv1.WarmPool) {
			p.Spec.Template.Spec.Containers = append(p.Spec.Template.Spec.Containers, corev1.Container{Name: "sidecar"})
		}, []string{"spec.template.spec.containers[1].name", "reserved"}},
	}
	v := &WarmPoolValidator{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pool := goodPool()
			tt.mutate(pool)
			_, err := v.ValidateCreate(context.Background(), pool)
			assertDenial(t, err, tt.want)
		})
	}
}

func TestValidateSandbox(t *testing.T) {
	v := &SandboxValidator{}
	good := &arlv1.Sandbox{ObjectMeta: metav1.ObjectMeta{Name: "my-workspace"}, Spec: arlv1.SandboxSpec{PoolRef: "python-pool", KeepAlive: true}}
	_, err := v.ValidateCreate(context.Background(), good)
	assertDenial(t, err, nil)

	missing := good.DeepCopy()
	missing.Spec.PoolRef = ""
	_, err = v.ValidateCreate(context.Background(), missing)
	assertDenial(t, err, []string{"spec.poolRef", "Required"})

	long := good.DeepCopy()
	long.Name = strings.Repeat("a", 64)
	_, err = v.ValidateCreate(context.Background(), long)
	assertDenial(t, err, []string{"metadata.name", "63"})

	moved := good.DeepCopy()
	moved.Spec.PoolRef = "other-pool"
	_, err = v.ValidateUpdate(context.Background(), good, moved)
	assertDenial(t, err, []string{"spec.poolRef", "immutable"})

	kept := good.DeepCopy()
	kept.Spec.KeepAlive = false
	_, err = v.ValidateUpdate(context.Background(), good, kept)
	assertDenial(t, err, nil)
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
