package framework

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

// Pool is a WarmPool of replicas pods of the manual's image
// (python:3.9-slim, `sleep infinity`); edit the result for anything else.
func Pool(name string, replicas int32) *arlv1.WarmPool {
	return &arlv1.WarmPool{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: Namespace},
		Spec: arlv1.WarmPoolSpec{
			Replicas: ptr.To(replicas),
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{
				Name: arlv1.ExecutorContainerName, Image: "python:3.9-slim", Command: []string{"sleep", "infinity"},
			}}}},
		},
	}
}

// Sandbox is a keepAlive sandbox of pool.
func Sandbox(name, pool string) *arlv1.Sandbox {
	return &arlv1.Sandbox{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: Namespace},
		Spec:       arlv1.SandboxSpec{PoolRef: pool, KeepAlive: true},
	}
}

// Task is a task of steps on sandbox.
func Task(name, sandbox string, steps ...arlv1.TaskStep) *arlv1.Task {
	return &arlv1.Task{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: Namespace},
		Spec:       arlv1.TaskSpec{SandboxRef: sandbox, Steps: steps},
	}
}

// Command is a Command step.
func Command(name string, command ...string) arlv1.TaskStep {
	return arlv1.TaskStep{Name: name, Type: arlv1.StepTypeCommand, Command: command}
}

// FilePatch is a FilePatch step writing content to path.
func FilePatch(name, path, content string) arlv1.TaskStep {
	return arlv1.TaskStep{Name: name, Type: arlv1.StepTypeFilePatch, Path: path, Content: content}
}

// Named is an empty object of kind T named name in Namespace, for Get,
// Delete and WaitGone: fw.Delete(t, fw.Named[arlv1.Task]("my-task")).
func Named[T any, P interface {
	*T
	client.Object
}](name string) P {
	obj := P(new(T))
	obj.SetName(name)
	obj.SetNamespace(Namespace)
	return obj
}
