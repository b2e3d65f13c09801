package main

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

func TestTrimFinishedTasksKeepsWhatControllersRead(t *testing.T) {
	ttl := int32(60)
	now := metav1.Now()
	task := func(state arlv1.TaskState) *arlv1.Task {
		return &arlv1.Task{
			ObjectMeta: metav1.ObjectMeta{Name: "t", ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "x"}}},
			Spec: arlv1.TaskSpec{SandboxRef: "sb", TTLSecondsAfterFinished: &ttl, Steps: []arlv1.TaskStep{
				{Name: "w", Type: arlv1.StepTypeFilePatch, Path: "/workspace/a", Content: "big"},
			}},
			Status: arlv1.TaskStatus{State: state, Stdout: "out", Stderr: "err", CompletionTime: &now, PodName: "p",
				Steps: []arlv1.StepStatus{{Name: "w"}}},
		}
	}
	got, err := trimFinishedTasks(task(arlv1.TaskStateSucceeded))
	if err != nil {
		t.Fatal(err)
	}
	done := got.(*arlv1.Task)
	if done.Status.Stdout != "" || done.Status.Stderr != "" || done.Spec.Steps[0].Content != "" || done.Status.Steps != nil || done.ManagedFields != nil {
		t.Errorf("finished task not trimmed: %+v", done)
	}
	if done.Status.State != arlv1.TaskStateSucceeded || done.Status.CompletionTime == nil || *done.Spec.TTLSecondsAfterFinished != 60 ||
		done.Spec.SandboxRef != "sb" || done.Status.PodName != "p" || len(done.Spec.Steps) != 1 {
		t.Errorf("trimmed what the controllers read: %+v", done)
	}
	got, _ = trimFinishedTasks(task(arlv1.TaskStateRunning))
	if running := got.(*arlv1.Task); running.Status.Stdout != "out" || running.Spec.Steps[0].Content != "big" || running.ManagedFields != nil {
		t.Errorf("a running task must keep its fields (only managed fields go): %+v", running)
	}
}
