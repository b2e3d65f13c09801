package poolpod

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

var testPods = PodConfig{SidecarImage: "ghcr.io/arl-infra/arl-sidecar:v0.1.0"}

// manualPool is the manual's quick-start pool.
func manualPool() *arlv1.WarmPool {
	return &arlv1.WarmPool{
		ObjectMeta: metav1.ObjectMeta{Name: "python-pool", Namespace: "default", UID: "pool-uid"},
		Spec: arlv1.WarmPoolSpec{
			Replicas: ptr.To[int32](3),
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
				Containers: []corev1.Container{{
					Name: "executor", Image: "python:3.9-slim", Command: []string{"sleep", "infinity"},
					VolumeMounts: []corev1.VolumeMount{{Name: "workspace", MountPath: "/workspace"}},
				}},
				Volumes: []corev1.Volume{{Name: "workspace", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}},
			}},
		},
	}
}

func container(t *testing.T, pod *corev1.Pod, name string) *corev1.Container {
	t.Helper()
	for i := range pod.Spec.Containers {
		if pod.Spec.Containers[i].Name == name {
			return &pod.Spec.Containers[i]
		}
	}
	t.Fatalf("pod has no container %q", name)
	return nil
}

func mountPath(c *corev1.Container, volume string) string {
	for _, m := range c.VolumeMounts {
		if m.Name == volume {
			return m.MountPath
		}
	}
	return ""
}

func TestBuildPodInjectsTheContractLayout(t *testing.T) {
	pool := manualPool()
	pod, err := BuildPod(pool, "python-pool-abcde", "h1", testPods)
	if err != nil {
		t.Fatal(err)
	}
	if pod.Name != "python-pool-abcde" || pod.Namespace != "default" {
		t.Errorf("name/namespace = %s/%s", pod.Namespace, pod.Name)
	}
	if pod.Labels[arlv1.LabelPool] != "python-pool" || pod.Labels[arlv1.LabelState] != arlv1.PodStateIdle {
		t.Errorf("labels = %v", pod.Labels)
	}
	if pod.Annotations[arlv1.AnnotationTemplateHash] != "h1" {
		t.Errorf("annotations = %v", pod.Annotations)
	}
	owner := metav1.GetControllerOf(pod)
	if owner == nil || owner.Kind != "WarmPool" || owner.Name != "python-pool" || owner.UID != "pool-uid" {
		t.Errorf("controller owner = %+v", owner)
	}

	if len(pod.Spec.InitContainers) != 1 {
		t.Fatalf("init containers = %d", len(pod.Spec.InitContainers))
	}
	install := pod.Spec.InitContainers[0]
	if install.Name != "arl-install" || install.Image != testPods.SidecarImage ||
		!slices.Equal(install.Command, []string{"/usr/local/bin/arl-sidecar", "install", "/arl/bin/arl-sidecar"}) ||
		mountPath(&install, "arl-tools") != "/arl" {
		t.Errorf("arl-install = %+v", install)
	}

	exec := container(t, pod, "executor")
	wantCmd := []string{"/arl/bin/arl-sidecar", "agent", "--socket=/run/arl/agent.sock", "--", "sleep", "infinity"}
	if !slices.Equal(exec.Command, wantCmd) || exec.Args != nil {
		t.Errorf("executor command = %q args %q, want %q", exec.Command, exec.Args, wantCmd)
	}
	if mountPath(exec, "arl-tools") != "/arl" || mountPath(exec, "arl-run") != "/run/arl" || mountPath(exec, "workspace") != "/workspace" {
		t.Errorf("executor mounts = %+v", exec.VolumeMounts)
	}
	for _, m := range exec.VolumeMounts {
		if m.ReadOnly != (m.Name == "arl-tools") {
			t.Errorf("executor mount %s readOnly %v: only /arl is read-only", m.Name, m.ReadOnly)
		}
	}

	sc := container(t, pod, "sidecar")
	wantSidecar := []string{"/usr/local/bin/arl-sidecar", "serve", "--http-addr=:8080", "--grpc-addr=:50051",
		"--workspace=/workspace", "--agent-socket=/run/arl/agent.sock"}
	if sc.Image != testPods.SidecarImage || !slices.Equal(sc.Command, wantSidecar) {
		t.Errorf("sidecar = %s %q", sc.Image, sc.Command)
	}
	if p := sc.ReadinessProbe; p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/health" || p.HTTPGet.Port.IntValue() != 8080 {
		t.Errorf("sidecar readiness probe = %+v", sc.ReadinessProbe)
	}
	if mountPath(sc, "arl-run") != "/run/arl" || mountPath(sc, "workspace") != "/workspace" || len(sc.VolumeMounts) != 2 {
		t.Errorf("sidecar mounts = %+v, want only the run volume and the workspace", sc.VolumeMounts)
	}
	if len(sc.Env) != 1 || sc.Env[0].Name != "ARL_SIDECAR_TOKEN" || sc.Env[0].ValueFrom.SecretKeyRef.Name != "python-pool-abcde" ||
		sc.Env[0].ValueFrom.SecretKeyRef.Key != "token" {
		t.Errorf("sidecar env = %+v", sc.Env)
	}

	volumes := map[string]bool{}
	for _, v := range pod.Spec.Volumes {
		if volumes[v.Name] {
			t.Errorf("volume %s twice", v.Name)
		}
		volumes[v.Name] = true
	}
	if !volumes["arl-tools"] || !volumes["arl-run"] || !volumes["workspace"] || len(volumes) != 3 {
		t.Errorf("volumes = %v", volumes)
	}
	// The pool's own template is untouched.
	if len(pool.Spec.Template.Spec.Containers) != 1 || pool.Spec.Template.Spec.Containers[0].Command[0] != "sleep" {
		t.Errorf("BuildPod changed the pool's template")
	}
}

func TestBuildPodWorkspaceAndAuthVariants(t *testing.T) {
	tests := []struct {
		name          string
		mutate        func(*arlv1.WarmPool)
		wantWorkspace string
		wantToken     bool
		wantCommand   []string
	}{
		{
			name: "no workspace volume: one is added at /workspace",
			mutate: func(p *arlv1.WarmPool) {
				p.Spec.Template.Spec.Volumes = nil
				p.Spec.Template.Spec.Containers[0].VolumeMounts = nil
			},
			wantWorkspace: "/workspace", wantToken: true,
			wantCommand: []string{"/arl/bin/arl-sidecar", "agent", "--socket=/run/arl/agent.sock", "--", "sleep", "infinity"},
		},
		{
			name: "template workspace at another path: the sidecar follows it",
			mutate: func(p *arlv1.WarmPool) {
				p.Spec.Template.Spec.Containers[0].VolumeMounts[0].MountPath = "/home/jovyan/work"
			},
			wantWorkspace: "/home/jovyan/work", wantToken: true,
			wantCommand: []string{"/arl/bin/arl-sidecar", "agent", "--socket=/run/arl/agent.sock", "--", "sleep", "infinity"},
		},
		{
			name:          "sidecarAuth None: no token",
			mutate:        func(p *arlv1.WarmPool) { p.Spec.SidecarAuth = arlv1.SidecarAuthNone },
			wantWorkspace: "/workspace", wantToken: false,
			wantCommand: []string{"/arl/bin/arl-sidecar", "agent", "--socket=/run/arl/agent.sock", "--", "sleep", "infinity"},
		},
		{
			name: "command and args are both kept, in order",
			mutate: func(p *arlv1.WarmPool) {
				p.Spec.Template.Spec.Containers[0].Command = []string{"bash", "-c"}
				p.Spec.Template.Spec.Containers[0].Args = []string{"sleep 1000"}
			},
			wantWorkspace: "/workspace", wantToken: true,
			wantCommand: []string{"/arl/bin/arl-sidecar", "agent", "--socket=/run/arl/agent.sock", "--", "bash", "-c", "sleep 1000"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pool := manualPool()
			tt.mutate(pool)
			pod, err := BuildPod(pool, "p-12345", "h", testPods)
			if err != nil {
				t.Fatal(err)
			}
			exec, sc := container(t, pod, "executor"), container(t, pod, "sidecar")
			if got := mountPath(exec, "workspace"); got != tt.wantWorkspace {
				t.Errorf("executor workspace mount = %q, want %q", got, tt.wantWorkspace)
			}
			if got := mountPath(sc, "workspace"); got != tt.wantWorkspace {
				t.Errorf("sidecar workspace mount = %q, want %q", got, tt.wantWorkspace)
			}
			if !slices.Contains(sc.Command, "--workspace="+tt.wantWorkspace) {
				t.Errorf("sidecar command %q lacks --workspace=%s", sc.Command, tt.wantWorkspace)
			}
			if hasToken := len(sc.Env) > 0; hasToken != tt.wantToken {
				t.Errorf("token env present = %v, want %v", hasToken, tt.wantToken)
			}
			if !slices.Equal(exec.Command, tt.wantCommand) {
				t.Errorf("executor command = %q, want %q", exec.Command, tt.wantCommand)
			}
		})
	}
}

func TestBuildPodNeedsExecutor(t *testing.T) {
	pool := manualPool()
	pool.Spec.Template.Spec.Containers[0].Name = "main"
	if _, err := BuildPod(pool, "p", "h", testPods); err == nil {
		t.Fatal("BuildPod accepted a template without an executor container")
	}
}

func TestTemplateHashFollowsTemplateAuthAndImage(t *testing.T) {
	base := TemplateHash(manualPool(), testPods)
	if base != TemplateHash(manualPool(), testPods) {
		t.Fatal("hash is not stable")
	}
	changedImage := manualPool()
	changedImage.Spec.Template.Spec.Containers[0].Image = "python:3.12-slim"
	noAuth := manualPool()
	noAuth.Spec.SidecarAuth = arlv1.SidecarAuthNone
	scaled := manualPool()
	scaled.Spec.Replicas = ptr.To[int32](10)
	if TemplateHash(changedImage, testPods) == base {
		t.Error("template change kept the hash")
	}
	if TemplateHash(noAuth, testPods) == base {
		t.Error("sidecarAuth change kept the hash")
	}
	if TemplateHash(manualPool(), PodConfig{SidecarImage: "other:v2"}) == base {
		t.Error("sidecar image change kept the hash")
	}
	if TemplateHash(scaled, testPods) != base {
		t.Error("scaling changed the hash (it must not replace pods)")
	}
}

func TestBuildPodMountsNoServiceAccountTokenUnlessAsked(t *testing.T) {
	for _, tc := range []struct {
		name     string
		template *bool
		want     bool
	}{
		{"template silent", nil, false},
		{"template asks for the token", ptr.To(true), true},
		{"template refuses the token", ptr.To(false), false},
	} {
		pool := manualPool()
		pool.Spec.Template.Spec.AutomountServiceAccountToken = tc.template
		pod, err := BuildPod(pool, "p", "h", testPods)
		if err != nil {
			t.Fatal(err)
		}
		if got := pod.Spec.AutomountServiceAccountToken; got == nil || *got != tc.want {
			t.Errorf("%s: automountServiceAccountToken = %v, want %v", tc.name, got, tc.want)
		}
	}
}
