package indexer

import (
	"context"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

func TestIndexFunctions(t *testing.T) {
	pod := func(labels map[string]string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Labels: labels}}
	}
	tests := []struct {
		name string
		fn   client.IndexerFunc
		obj  client.Object
		want []string
	}{
		{"task by sandbox", TaskSandboxRef, &arlv1.Task{Spec: arlv1.TaskSpec{SandboxRef: "sb"}}, []string{"sb"}},
		{"task without sandbox", TaskSandboxRef, &arlv1.Task{}, nil},
		{"not a task", TaskSandboxRef, &arlv1.Sandbox{}, nil},
		{"sandbox by pool", SandboxPoolRef, &arlv1.Sandbox{Spec: arlv1.SandboxSpec{PoolRef: "p"}}, []string{"p"}},
		{"pod by pool", PodPool, pod(map[string]string{arlv1.LabelPool: "p"}), []string{"p"}},
		{"pod without pool", PodPool, pod(nil), nil},
		{"idle pod by pool and state", PodPoolState, pod(map[string]string{arlv1.LabelPool: "p", arlv1.LabelState: "idle"}), []string{"p/idle"}},
		{"pod without state", PodPoolState, pod(map[string]string{arlv1.LabelPool: "p"}), nil},
		{"pod by sandbox", PodSandbox, pod(map[string]string{arlv1.LabelSandbox: "sb"}), []string{"sb"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.fn(tt.obj); !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	seen := map[string]bool{}
	for _, idx := range All() {
		if seen[idx.Field] {
			t.Errorf("index %s registered twice", idx.Field)
		}
		seen[idx.Field] = true
	}
}

func TestEnsureRefusesAnUnknownIndex(t *testing.T) {
	if err := Ensure(context.Background(), nil, "spec.nothing"); err == nil {
		t.Fatal("Ensure of an unknown index returned no error")
	}
}
