package webhook

import (
	"context"
	"path"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

// Every rule of a Task is CEL on its schema (api/v1alpha1/task_types.go),
// where `kubectl explain` and server-side validation see it, except one:
// CEL cannot resolve the "." and ".." segments of a FilePatch path, so this
// webhook checks where such a path really leads. The API server calls it
// only for a Task with a dot segment in some path (matchConditions), after
// the schema has accepted the Task; the immutable spec is CEL as well, so
// updates never come here.
// +kubebuilder:webhook:path=/validate-arl-infra-io-v1alpha1-task,mutating=false,failurePolicy=fail,sideEffects=None,groups=arl.infra.io,resources=tasks,verbs=create,versions=v1alpha1,name=vtask.arl.infra.io,admissionReviewVersions=v1,patch=`{"matchConditions":[{"name":"path-has-dot-segment","expression":"has(object.spec) && has(object.spec.steps) && object.spec.steps.exists(s, has(s.path) && s.path.contains('/.'))"}]}`

// TaskValidator validates Tasks at admission.
type TaskValidator struct{}

var _ admission.Validator[*arlv1.Task] = &TaskValidator{}

// ValidateCreate checks a new Task.
func (v *TaskValidator) ValidateCreate(_ context.Context, task *arlv1.Task) (admission.Warnings, error) {
	return nil, toInvalid("Task", task.Name, ValidateTask(task))
}

// ValidateUpdate allows every update: the webhook is registered for creates
// only (the schema's CEL keeps the spec immutable).
func (v *TaskValidator) ValidateUpdate(context.Context, *arlv1.Task, *arlv1.Task) (admission.Warnings, error) {
	return nil, nil
}

// ValidateDelete allows every deletion.
func (v *TaskValidator) ValidateDelete(context.Context, *arlv1.Task) (admission.Warnings, error) {
	return nil, nil
}

// ValidateTask returns the problems of a Task that its schema's CEL cannot
// see: FilePatch paths whose "." and ".." segments resolve to /workspace
// itself or outside it. It assumes the schema accepted the Task.
func ValidateTask(task *arlv1.Task) field.ErrorList {
	var errs field.ErrorList
	steps := field.NewPath("spec", "steps")
	for i, step := range task.Spec.Steps {
		if step.Type != arlv1.StepTypeFilePatch || step.Path == "" {
			continue
		}
		if msg := resolvedPathProblem(step.Path); msg != "" {
			errs = append(errs, field.Invalid(steps.Index(i).Child("path"), step.Path, msg))
		}
	}
	return errs
}

// resolvedPathProblem says why a path, once its "." and ".." segments are
// resolved, is not a file inside the workspace, or "" when it is.
func resolvedPathProblem(p string) string {
	clean := path.Clean(p)
	switch {
	case clean == arlv1.DefaultWorkDir:
		return "must name a file inside /workspace, not the directory itself"
	case !strings.HasPrefix(clean, arlv1.DefaultWorkDir+"/"):
		return "must stay inside /workspace (it resolves to " + clean + ")"
	}
	return ""
}
