package webhook

import (
	"context"
	"path"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

// The API server calls the webhook only for a Task it cannot prove valid
// itself: matchConditions (CEL) admit the common shapes (up to 8 steps,
// plain workspace paths, simple durations and env names) without the
// webhook's round trip, and send everything else, and every spec change,
// here for the full checks and their messages. The CEL is stricter than
// ValidateTask, never looser (the admission tests run every case of both).
// +kubebuilder:webhook:path=/validate-arl-infra-io-v1alpha1-task,mutating=false,failurePolicy=fail,sideEffects=None,groups=arl.infra.io,resources=tasks,verbs=create;update,versions=v1alpha1,name=vtask.arl.infra.io,admissionReviewVersions=v1,patch=`{"matchConditions":[{"name":"may-be-invalid","expression":"request.operation == 'CREATE' ? !(has(object.spec) && has(object.spec.sandboxRef) && object.spec.sandboxRef != '' && (!has(object.spec.timeout) || object.spec.timeout.matches('^([1-9][0-9]{0,3}s|[1-9][0-9]{0,2}m|([1-9]|1[0-9]|2[0-3])h)$')) && (!has(object.spec.retries) || (object.spec.retries >= 0 && object.spec.retries <= 10)) && (!has(object.spec.ttlSecondsAfterFinished) || object.spec.ttlSecondsAfterFinished >= 0) && has(object.spec.steps) && size(object.spec.steps) > 0 && size(object.spec.steps) <= 8 && object.spec.steps.all(st, has(st.name) && st.name != '' && object.spec.steps.exists_one(o, has(o.name) && o.name == st.name) && has(st.type) && ((st.type == 'Command' && has(st.command) && size(st.command) > 0 && st.command[0] != '' && !has(st.content) && !has(st.path) && (!has(st.workDir) || st.workDir.startsWith('/')) && (!has(st.env) || st.env.all(k, k.matches('^[A-Za-z_][A-Za-z0-9_]*$')))) || (st.type == 'FilePatch' && has(st.path) && st.path.matches('^/workspace(/[A-Za-z0-9_][A-Za-z0-9_.-]*)+$') && !has(st.command) && !has(st.workDir) && !has(st.env))))) : (!has(object.spec) || !has(oldObject.spec) || object.spec != oldObject.spec)"}]}`

// MaxTaskTimeout is the longest timeout a Task may ask for.
const MaxTaskTimeout = 24 * time.Hour

// MaxTaskRetries is the most retries a Task may ask for.
const MaxTaskRetries = 10

// TaskValidator validates Tasks at admission.
type TaskValidator struct{}

var _ admission.Validator[*arlv1.Task] = &TaskValidator{}

// ValidateCreate checks a new Task.
func (v *TaskValidator) ValidateCreate(_ context.Context, task *arlv1.Task) (admission.Warnings, error) {
	return nil, toInvalid("Task", task.Name, ValidateTask(task))
}

// ValidateUpdate refuses any change to the spec (status and metadata may change).
func (v *TaskValidator) ValidateUpdate(_ context.Context, old, task *arlv1.Task) (admission.Warnings, error) {
	if !equality.Semantic.DeepEqual(old.Spec, task.Spec) {
		return nil, toInvalid("Task", task.Name, field.ErrorList{field.Forbidden(field.NewPath("spec"),
			"the spec of a Task is immutable: create a new Task (for example under a new name) instead")})
	}
	return nil, nil
}

// ValidateDelete allows every deletion.
func (v *TaskValidator) ValidateDelete(context.Context, *arlv1.Task) (admission.Warnings, error) {
	return nil, nil
}

// ValidateTask returns every problem of a Task's spec.
func ValidateTask(task *arlv1.Task) field.ErrorList {
	var errs field.ErrorList
	spec := field.NewPath("spec")
	if task.Spec.SandboxRef == "" {
		errs = append(errs, field.Required(spec.Child("sandboxRef"), "name the Sandbox the task runs in"))
	}
	if t := task.Spec.Timeout; t != nil {
		switch {
		case t.Duration <= 0:
			errs = append(errs, field.Invalid(spec.Child("timeout"), t.Duration.String(), "must be positive, e.g. 30s"))
		case t.Duration > MaxTaskTimeout:
			errs = append(errs, field.Invalid(spec.Child("timeout"), t.Duration.String(), "must be at most 24h"))
		}
	}
	if r := task.Spec.Retries; r < 0 || r > MaxTaskRetries {
		errs = append(errs, field.Invalid(spec.Child("retries"), r, "must be between 0 and 10"))
	}
	if t := task.Spec.TTLSecondsAfterFinished; t != nil && *t < 0 {
		errs = append(errs, field.Invalid(spec.Child("ttlSecondsAfterFinished"), *t, "must be 0 or more"))
	}
	stepsPath := spec.Child("steps")
	if len(task.Spec.Steps) == 0 {
		errs = append(errs, field.Required(stepsPath, "a task needs at least one step"))
	}
	seen := make(map[string]int, len(task.Spec.Steps))
	for i := range task.Spec.Steps {
		step := &task.Spec.Steps[i]
		p := stepsPath.Index(i)
		if step.Name != "" {
			if first, dup := seen[step.Name]; dup {
				errs = append(errs, field.Duplicate(p.Child("name"), step.Name+" (also the name of step "+strconv.Itoa(first)+")"))
			} else {
				seen[step.Name] = i
			}
		}
		errs = append(errs, ValidateStep(p, step)...)
	}
	return errs
}

// ValidateStep returns every problem of one step.
func ValidateStep(p *field.Path, step *arlv1.TaskStep) field.ErrorList {
	var errs field.ErrorList
	if step.Name == "" {
		errs = append(errs, field.Required(p.Child("name"), "every step needs a name"))
	}
	switch step.Type {
	case arlv1.StepTypeFilePatch:
		if step.Path == "" {
			errs = append(errs, field.Required(p.Child("path"), "a FilePatch step needs the path of the file to write"))
		} else if msg := workspacePathProblem(step.Path); msg != "" {
			errs = append(errs, field.Invalid(p.Child("path"), step.Path, msg))
		}
		if len(step.Command) > 0 {
			errs = append(errs, field.Forbidden(p.Child("command"), "a FilePatch step writes a file and runs nothing: move the command to a Command step"))
		}
		if step.WorkDir != "" {
			errs = append(errs, field.Forbidden(p.Child("workDir"), "workDir applies to Command steps only"))
		}
		if len(step.Env) > 0 {
			errs = append(errs, field.Forbidden(p.Child("env"), "env applies to Command steps only"))
		}
	case arlv1.StepTypeCommand:
		switch {
		case len(step.Command) == 0:
			errs = append(errs, field.Required(p.Child("command"), `a Command step needs an argv array, e.g. ["python", "app.py"]`))
		case step.Command[0] == "":
			errs = append(errs, field.Invalid(p.Child("command").Index(0), "", "the program name must not be empty"))
		}
		if step.Content != "" {
			errs = append(errs, field.Forbidden(p.Child("content"), "content belongs to FilePatch steps: write the file in a FilePatch step first"))
		}
		if step.Path != "" {
			errs = append(errs, field.Forbidden(p.Child("path"), "path belongs to FilePatch steps; a Command step uses workDir"))
		}
		if step.WorkDir != "" && !path.IsAbs(step.WorkDir) {
			errs = append(errs, field.Invalid(p.Child("workDir"), step.WorkDir, "must be an absolute path, e.g. /workspace"))
		}
		for k := range step.Env {
			if k == "" || strings.ContainsAny(k, "=\x00") {
				errs = append(errs, field.Invalid(p.Child("env").Key(k), k, "an environment variable name must be non-empty and contain no '=' or NUL"))
			}
		}
	case "":
		errs = append(errs, field.Required(p.Child("type"), "type is FilePatch or Command"))
	default:
		errs = append(errs, field.NotSupported(p.Child("type"), step.Type,
			[]string{string(arlv1.StepTypeFilePatch), string(arlv1.StepTypeCommand)}))
	}
	return errs
}

// workspacePathProblem says why a FilePatch path is not a file inside the
// workspace, or "" when it is.
func workspacePathProblem(p string) string {
	if !path.IsAbs(p) {
		return "must be an absolute path inside /workspace, e.g. /workspace/app.py"
	}
	clean := path.Clean(p)
	if clean == arlv1.DefaultWorkDir {
		return "must name a file inside /workspace, not the directory itself"
	}
	if !strings.HasPrefix(clean, arlv1.DefaultWorkDir+"/") {
		return "must stay inside /workspace (it resolves to " + clean + ")"
	}
	if strings.HasSuffix(p, "/") {
		return "must name a file, not a directory"
	}
	return ""
}
