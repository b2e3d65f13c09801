package task

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"connectrpc.com/connect"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
	"github.com/arl-infra/arl/operator/internal/sidecarclient"
	sidecarv1 "github.com/arl-infra/arl/proto/gen/arl/sidecar/v1"
)

// rpcGrace is how long past the attempt's deadline a call may take, so the
// sidecar's own timeout (which kills the process group and returns what it
// printed) answers before the client gives up.
const rpcGrace = 5 * time.Second

// NoExitCode is the exit code of a step that has none: it could not run (a
// sidecar error, a file the sidecar refused to write) or its end was not
// seen (the sidecar did not answer before the timeout).
const NoExitCode int32 = -1

// sandboxTarget is where and how a task's steps are sent.
type sandboxTarget struct {
	// addr is podIP:port of the sidecar's gRPC listener.
	addr      string
	namespace string
	podName   string
	// token is the sidecar's bearer token; empty when the pool's sidecarAuth
	// is None.
	token string
	// workDir is the default working directory of Command steps.
	workDir string
	// sandboxUID is the sandbox the steps go to (status.sandboxUID).
	sandboxUID types.UID
	// secret is the pod's token Secret, checked before each read.
	secret sidecarclient.SecretRef
}

// stepRunner sends steps to sidecars.
type stepRunner struct {
	clients *sidecarclient.Pool
	tokens  *sidecarclient.Tokens
}

// runAttempt runs the task's steps from p.resumeFrom until one fails, the
// deadline passes, or the operator stops (stop closes). A step that started
// always runs to its end: it is never cancelled by an operator stop, so its
// result can be recorded.
func (r *stepRunner) runAttempt(ctx context.Context, stop <-chan struct{}, task *arlv1.Task, p plan, tg sandboxTarget, deadline time.Time) attemptOutcome {
	var out attemptOutcome
	for i := p.resumeFrom; i < len(task.Spec.Steps); i++ {
		if i > p.resumeFrom {
			select {
			case <-stop:
				out.paused = true
				return out
			default:
			}
		}
		s := r.runStep(ctx, task.Spec.Steps[i], stepKey(task, p.attempt, i), p.attempt, tg, deadline)
		out.steps = append(out.steps, s)
		if s.failReason != "" {
			return out
		}
	}
	return out
}

// stepKey is the sidecar idempotency key of one step of one attempt: the
// sidecar runs a step once per key, however often it is sent.
func stepKey(task *arlv1.Task, attempt int32, step int) string {
	return fmt.Sprintf("task/%s/%d/%d", task.UID, attempt, step)
}

func (r *stepRunner) runStep(ctx context.Context, step arlv1.TaskStep, key string, attempt int32, tg sandboxTarget, deadline time.Time) stepOutcome {
	start := time.Now()
	out := stepOutcome{status: arlv1.StepStatus{
		Name:      step.Name,
		Type:      step.Type,
		Attempt:   attempt,
		StartTime: &metav1.Time{Time: start},
	}}
	if !start.Before(deadline) {
		out.failReason = arlv1.TaskReasonTimeout
		out.status.Message = "the attempt's timeout passed before this step started"
	} else {
		callCtx, cancel := context.WithDeadline(context.WithoutCancel(ctx), deadline.Add(rpcGrace))
		switch step.Type {
		case arlv1.StepTypeFilePatch:
			r.writeFile(callCtx, step, key, tg, &out)
		case arlv1.StepTypeCommand:
			r.execute(callCtx, step, key, tg, deadline, &out)
		default:
			out.failReason = arlv1.TaskReasonSidecarError
			out.status.Message = fmt.Sprintf("unknown step type %q", step.Type)
		}
		cancel()
	}
	end := time.Now()
	out.status.CompletionTime = &metav1.Time{Time: end}
	out.status.Duration = formatDuration(end.Sub(start))
	out.status.State = arlv1.StepStateSucceeded
	result := "succeeded"
	if out.failReason != "" {
		out.status.State = arlv1.StepStateFailed
		if out.status.ExitCode == nil {
			code := NoExitCode
			out.status.ExitCode = &code
		}
		result = "failed"
		if out.failReason == arlv1.TaskReasonSidecarError {
			result = "error"
			out.stderr += fmt.Sprintf("arl: step %q could not run: %s\n", step.Name, out.status.Message)
		}
	}
	stepDuration.WithLabelValues(string(step.Type), result).Observe(end.Sub(start).Seconds())
	return out
}

func (r *stepRunner) writeFile(ctx context.Context, step arlv1.TaskStep, key string, tg sandboxTarget, out *stepOutcome) {
	req := &sidecarv1.WriteFilesRequest{Files: []*sidecarv1.File{{Path: step.Path, Content: []byte(step.Content)}}, IdempotencyKey: key}
	_, err := withTokenRetry(ctx, r, tg, func(token string) (*connect.Response[sidecarv1.WriteFilesResponse], error) {
		return r.clients.Client(tg.addr).WriteFiles(ctx, sidecarclient.WithToken(connect.NewRequest(req), token))
	})
	if err != nil {
		classifyCallError(err, out)
		return
	}
	zero := int32(0)
	out.status.ExitCode = &zero
}

func (r *stepRunner) execute(ctx context.Context, step arlv1.TaskStep, key string, tg sandboxTarget, deadline time.Time, out *stepOutcome) {
	workDir := step.WorkDir
	if workDir == "" {
		workDir = tg.workDir
	}
	req := &sidecarv1.ExecuteRequest{
		Command:        step.Command,
		WorkingDir:     workDir,
		Env:            step.Env,
		TimeoutSeconds: timeoutSeconds(time.Until(deadline)),
		IdempotencyKey: key,
	}
	resp, err := withTokenRetry(ctx, r, tg, func(token string) (*connect.Response[sidecarv1.ExecuteResponse], error) {
		return r.clients.Client(tg.addr).Execute(ctx, sidecarclient.WithToken(connect.NewRequest(req), token))
	})
	if err != nil {
		classifyCallError(err, out)
		return
	}
	msg := resp.Msg
	code := msg.GetExitCode()
	out.status.ExitCode = &code
	out.stdout, out.stderr = msg.GetStdout(), msg.GetStderr()
	out.stdoutCut, out.stderrCut = msg.GetStdoutTruncated(), msg.GetStderrTruncated()
	out.status.StdoutBytes, out.status.StderrBytes = int64(len(out.stdout)), int64(len(out.stderr))
	switch {
	case msg.GetTimedOut():
		out.failReason = arlv1.TaskReasonTimeout
		out.status.Message = "killed: the attempt's timeout passed"
	case code != 0:
		out.failReason = arlv1.TaskReasonStepFailed
		if sig := msg.GetSignal(); sig != "" {
			out.status.Message = "ended by " + sig
		}
	}
}

// withTokenRetry makes a call and, if the sidecar rejects the token (the
// pod's Secret changed), reads the token again and repeats the call once: a
// rejected call ran nothing.
func withTokenRetry[T any](ctx context.Context, r *stepRunner, tg sandboxTarget, call func(token string) (T, error)) (T, error) {
	resp, err := call(tg.token)
	if connect.CodeOf(err) != connect.CodeUnauthenticated || tg.token == "" {
		return resp, err
	}
	r.tokens.Forget(tg.secret)
	token, terr := r.tokens.Token(ctx, tg.secret)
	if terr != nil {
		return resp, errors.Join(err, terr)
	}
	return call(token)
}

func classifyCallError(err error, out *stepOutcome) {
	if connect.CodeOf(err) == connect.CodeAlreadyExists {
		out.failReason = arlv1.TaskReasonStepResultLost
		out.status.Message = "the sidecar ran this step for an earlier operator and no longer keeps its result; it is not run again"
		return
	}
	if connect.CodeOf(err) == connect.CodeDeadlineExceeded || errors.Is(err, context.DeadlineExceeded) {
		out.failReason = arlv1.TaskReasonTimeout
		out.status.Message = "the sidecar did not answer before the attempt's timeout"
		return
	}
	out.failReason = arlv1.TaskReasonSidecarError
	out.status.Message = truncateMessage(fmt.Sprintf("sidecar: %v", err))
}

// timeoutSeconds is the sidecar's kill timer for a step: the attempt's time
// left, rounded up to whole seconds, at least 1.
func timeoutSeconds(left time.Duration) int32 {
	s := math.Ceil(left.Seconds())
	switch {
	case s < 1:
		return 1
	case s > math.MaxInt32:
		return math.MaxInt32
	}
	return int32(s)
}
