// Package tasks turns a list of steps into a Task in a sandbox, creates it
// and waits (by watching, never polling) until it has finished.
package tasks

import (
	"context"
	"errors"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

// File is a steps.yaml: the steps of a Task, with its optional timeout and
// retries. A bare YAML list of steps is accepted too.
type File struct {
	Timeout string           `json:"timeout,omitempty"`
	Retries int32            `json:"retries,omitempty"`
	Steps   []arlv1.TaskStep `json:"steps"`
}

// Parse reads a steps file; unknown fields are errors, so a typo is caught
// here rather than silently dropped.
func Parse(data []byte) (*File, error) {
	var f File
	if err := yaml.UnmarshalStrict(data, &f); err != nil {
		var list []arlv1.TaskStep
		if lerr := yaml.UnmarshalStrict(data, &list); lerr != nil {
			return nil, fmt.Errorf("reading the steps: %w (want `steps:` with a list of FilePatch/Command steps, as in a Task's spec)", err)
		}
		f = File{Steps: list}
	}
	if len(f.Steps) == 0 {
		return nil, errors.New("the steps file has no steps")
	}
	return &f, nil
}

// Build returns a Task (generateName "<sandbox>-") running f in sandbox.
func Build(namespace, sandbox string, f *File) (*arlv1.Task, error) {
	t := &arlv1.Task{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, GenerateName: sandbox + "-"},
		Spec:       arlv1.TaskSpec{SandboxRef: sandbox, Retries: f.Retries, Steps: f.Steps},
	}
	if f.Timeout != "" {
		d, err := time.ParseDuration(f.Timeout)
		if err != nil {
			return nil, fmt.Errorf("timeout %q: %w", f.Timeout, err)
		}
		t.Spec.Timeout = &metav1.Duration{Duration: d}
	}
	return t, nil
}

// Finished reports whether a task reached Succeeded or Failed.
func Finished(t *arlv1.Task) bool {
	return t.Status.State == arlv1.TaskStateSucceeded || t.Status.State == arlv1.TaskStateFailed
}

// Run creates the task and waits until it finishes or ctx ends.
func Run(ctx context.Context, c client.WithWatch, t *arlv1.Task) (*arlv1.Task, error) {
	if err := c.Create(ctx, t); err != nil {
		return nil, fmt.Errorf("creating the task in sandbox %q: %w", t.Spec.SandboxRef, err)
	}
	return Wait(ctx, c, t.Namespace, t.Name)
}

// Wait watches a task until it has finished.
func Wait(ctx context.Context, c client.WithWatch, namespace, name string) (*arlv1.Task, error) {
	for {
		list := &arlv1.TaskList{}
		sel := client.MatchingFieldsSelector{Selector: fields.OneTermEqualSelector("metadata.name", name)}
		if err := c.List(ctx, list, client.InNamespace(namespace), sel); err != nil {
			return nil, fmt.Errorf("reading task %s/%s: %w", namespace, name, err)
		}
		if len(list.Items) == 0 {
			return nil, fmt.Errorf("task %s/%s is gone", namespace, name)
		}
		if t := &list.Items[0]; Finished(t) {
			return t, nil
		}
		w, err := c.Watch(ctx, &arlv1.TaskList{}, client.InNamespace(namespace), sel,
			&client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: list.ResourceVersion}})
		if err != nil {
			return nil, fmt.Errorf("watching task %s/%s: %w", namespace, name, err)
		}
		t, err := untilFinished(ctx, w)
		w.Stop()
		if t != nil || err != nil {
			return t, err
		}
		// The watch closed early: list again and resume.
	}
}

func untilFinished(ctx context.Context, w watch.Interface) (*arlv1.Task, error) {
	for {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for the task: %w", ctx.Err())
		case ev, ok := <-w.ResultChan():
			if !ok {
				return nil, nil
			}
			switch ev.Type {
			case watch.Deleted:
				return nil, errors.New("the task was deleted before it finished")
			case watch.Error:
				return nil, nil
			}
			if t, ok := ev.Object.(*arlv1.Task); ok && Finished(t) {
				return t, nil
			}
		}
	}
}
