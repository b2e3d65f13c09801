package poolpod

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/utils/ptr"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

// hardened reports what a securityContext lacks of the hardened default.
func hardened(t *testing.T, name string, sc *corev1.SecurityContext) {
	t.Helper()
	switch {
	case sc == nil:
		t.Fatalf("%s: no securityContext", name)
	case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
		t.Errorf("%s: privilege escalation allowed", name)
	case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
		t.Errorf("%s: root filesystem writable", name)
	case sc.Capabilities == nil || len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" || len(sc.Capabilities.Add) != 0:
		t.Errorf("%s: capabilities %+v, want drop ALL, add none", name, sc.Capabilities)
	case sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault:
		t.Errorf("%s: seccomp %+v, want RuntimeDefault", name, sc.SeccompProfile)
	case sc.Privileged != nil && *sc.Privileged:
		t.Errorf("%s: privileged", name)
	}
}

// The injected containers are hardened by default; they run as the
// executor's user when the template names it (container over pod), else as
// their image's.
func TestInjectedContainersAreHardenedByDefault(t *testing.T) {
	for _, tc := range []struct {
		name      string
		tune      func(*corev1.PodSpec)
		uid, gid  *int64
		nonRootTo bool
	}{
		{"executor user not named: the image's", func(*corev1.PodSpec) {}, nil, nil, false},
		{"pod runs as 1000:2000", func(s *corev1.PodSpec) {
			s.SecurityContext = &corev1.PodSecurityContext{RunAsUser: ptr.To[int64](1000), RunAsGroup: ptr.To[int64](2000)}
		}, ptr.To[int64](1000), ptr.To[int64](2000), true},
		{"executor's own user wins over the pod's", func(s *corev1.PodSpec) {
			s.SecurityContext = &corev1.PodSecurityContext{RunAsUser: ptr.To[int64](1000)}
			s.Containers[0].SecurityContext = &corev1.SecurityContext{RunAsUser: ptr.To[int64](1001)}
		}, ptr.To[int64](1001), nil, true},
		{"executor explicitly root: root, still without capabilities", func(s *corev1.PodSpec) {
			s.Containers[0].SecurityContext = &corev1.SecurityContext{RunAsUser: ptr.To[int64](0)}
		}, ptr.To[int64](0), nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pool := manualPool()
			tc.tune(&pool.Spec.Template.Spec)
			pod, err := BuildPod(pool, "python-pool-abcde", "h", testPods)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []*corev1.Container{container(t, pod, "sidecar"), &pod.Spec.InitContainers[0]} {
				hardened(t, c.Name, c.SecurityContext)
				sc := c.SecurityContext
				if !equality.Semantic.DeepEqual(sc.RunAsUser, tc.uid) || !equality.Semantic.DeepEqual(sc.RunAsGroup, tc.gid) {
					t.Errorf("%s runs as %v:%v, want %v:%v", c.Name, sc.RunAsUser, sc.RunAsGroup, tc.uid, tc.gid)
				}
				if got := sc.RunAsNonRoot != nil && *sc.RunAsNonRoot; got != tc.nonRootTo {
					t.Errorf("%s runAsNonRoot %v, want %v", c.Name, got, tc.nonRootTo)
				}
			}
			if exec := container(t, pod, "executor"); !equality.Semantic.DeepEqual(exec.SecurityContext, pool.Spec.Template.Spec.Containers[0].SecurityContext) {
				t.Errorf("the executor's securityContext was changed: %+v", exec.SecurityContext)
			}
		})
	}
}

// spec.injected replaces the securityContext and the resources of the
// injected containers, and a change of it replaces idle pods.
func TestPoolOverridesTheInjectedContainers(t *testing.T) {
	pool := manualPool()
	cfg := testPods
	cfg.SidecarResources = corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("10m")}}
	before := TemplateHash(pool, cfg)
	own := &corev1.SecurityContext{RunAsUser: ptr.To[int64](4242), RunAsNonRoot: ptr.To(true)}
	res := &corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1Gi")}}
	pool.Spec.Injected = &arlv1.InjectedContainers{SecurityContext: own, Resources: res}
	pod, err := BuildPod(pool, "python-pool-abcde", "h", cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []*corev1.Container{container(t, pod, "sidecar"), &pod.Spec.InitContainers[0]} {
		if !equality.Semantic.DeepEqual(c.SecurityContext, own) || !equality.Semantic.DeepEqual(c.Resources, *res) {
			t.Errorf("%s: securityContext %+v resources %+v, want the pool's", c.Name, c.SecurityContext, c.Resources)
		}
	}
	if TemplateHash(pool, cfg) == before {
		t.Error("spec.injected does not change the template hash: idle pods would keep the old settings")
	}
	// The pool's override is copied, never shared with the pod.
	container(t, pod, "sidecar").SecurityContext.RunAsUser = ptr.To[int64](1)
	if *own.RunAsUser != 4242 {
		t.Error("BuildPod shares the pool's securityContext with the pod")
	}
}

// A workspace emptyDir without a sizeLimit gets the operator's; one the
// template limits keeps its own; zero leaves it unlimited.
func TestWorkspaceGetsASizeLimit(t *testing.T) {
	limit := resource.MustParse("10Gi")
	cfg := testPods
	cfg.WorkspaceSizeLimit = limit
	workspace := func(pod *corev1.Pod) *corev1.EmptyDirVolumeSource {
		for _, v := range pod.Spec.Volumes {
			if v.Name == arlv1.WorkspaceVolumeName {
				return v.EmptyDir
			}
		}
		t.Fatal("no workspace volume")
		return nil
	}
	pod, err := BuildPod(manualPool(), "p", "h", cfg) // the manual's template: emptyDir: {}
	if err != nil {
		t.Fatal(err)
	}
	if got := workspace(pod).SizeLimit; got == nil || got.Cmp(limit) != 0 {
		t.Errorf("template workspace sizeLimit %v, want 10Gi", got)
	}
	noVolume := manualPool()
	noVolume.Spec.Template.Spec.Volumes = nil
	noVolume.Spec.Template.Spec.Containers[0].VolumeMounts = nil
	pod, _ = BuildPod(noVolume, "p", "h", cfg)
	if got := workspace(pod).SizeLimit; got == nil || got.Cmp(limit) != 0 {
		t.Errorf("added workspace sizeLimit %v, want 10Gi", got)
	}
	own := manualPool()
	own.Spec.Template.Spec.Volumes[0].EmptyDir.SizeLimit = ptr.To(resource.MustParse("1Gi"))
	pod, _ = BuildPod(own, "p", "h", cfg)
	if got := workspace(pod).SizeLimit; got.String() != "1Gi" {
		t.Errorf("the template's sizeLimit became %v", got)
	}
	pod, _ = BuildPod(manualPool(), "p", "h", testPods)
	if got := workspace(pod).SizeLimit; got != nil {
		t.Errorf("sizeLimit %v with no --workspace-size-limit", got)
	}
	if TemplateHash(manualPool(), cfg) == TemplateHash(manualPool(), testPods) {
		t.Error("the workspace size limit does not change the template hash")
	}
}
