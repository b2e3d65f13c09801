package poolpod

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// --sidecar-resources (the chart's sidecar.resources) lands on the sidecar
// container, and changing it replaces idle pods (a new template hash);
// leaving it empty keeps the hash pods had before the flag existed.
func TestSidecarResourcesAreInjected(t *testing.T) {
	pool := manualPool()
	cfg := testPods
	cfg.SidecarResources = corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("50m")},
		Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")},
	}
	pod, err := BuildPod(pool, "python-pool-abcde", "h1", cfg)
	if err != nil {
		t.Fatal(err)
	}
	got := container(t, pod, "sidecar").Resources
	if got.Requests.Cpu().String() != "50m" || got.Limits.Memory().String() != "256Mi" {
		t.Fatalf("sidecar resources %v, want requests cpu 50m, limits memory 256Mi", got)
	}
	if TemplateHash(pool, cfg) == TemplateHash(pool, testPods) {
		t.Error("the template hash ignores the sidecar resources: idle pods would keep the old ones")
	}
	if len(testPods.SidecarResources.Requests)+len(testPods.SidecarResources.Limits) != 0 {
		t.Fatal("testPods should carry no sidecar resources")
	}
}
