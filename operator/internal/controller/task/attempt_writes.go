package task

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

// resultWriteBudget bounds the retries of a status write that records what
// steps did. Past it the task stays Running with its step marked Running,
// and is failed as interrupted: never run again.
const resultWriteBudget = 30 * time.Second

// resultWriteBackoff spaces the retries of the outcome write: 50 ms
// doubling to 2 s, then every 2 s until resultWriteBudget.
var resultWriteBackoff = wait.Backoff{Duration: 50 * time.Millisecond, Factor: 2, Cap: 2 * time.Second, Steps: math.MaxInt32}

var (
	errTaskGone  = errors.New("task was deleted")
	errClaimLost = errors.New("the attempt's record was changed by another writer")
)

// writeClaim records that the attempt runs. A conflict re-reads the task and
// writes again (client-go's RetryOnConflict) while the live task is still
// where the attempt started. An operator stop does not cut the write short:
// a claim that reached the API server unseen by its writer would look like
// another writer's and cost the attempt its outcome.
func (d *dispatcher) writeClaim(ctx context.Context, task *arlv1.Task, p plan, start time.Time) (*arlv1.Task, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), resultWriteBudget)
	defer cancel()
	key := client.ObjectKeyFromObject(task)
	base := task
	var claimed *arlv1.Task
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		obj := base.DeepCopy()
		obj.Status = claimedStatus(base, p, start)
		err := d.client.Status().Update(ctx, obj)
		switch {
		case err == nil:
			claimed = obj
			return nil
		case apierrors.IsNotFound(err):
			return errTaskGone
		case !apierrors.IsConflict(err):
			return err
		}
		statusWriteConflicts.Inc()
		live, gerr := d.readLive(ctx, key)
		if gerr != nil {
			return gerr
		}
		if !attemptStartsFrom(live, task.UID, p) {
			return errClaimLost
		}
		base = live
		return err // the conflict: write again on top of live
	})
	return claimed, err
}

// recordOutcome writes what the steps did: on top of the claim when it was
// written, else claim and outcome in one write based on the task the
// attempt started from. A failed write re-reads the task and applies the
// same outcome again while the live task still carries this attempt (or,
// claim unwritten, is still where it started), with resultWriteBackoff
// until resultWriteBudget; the steps are never run again.
func (d *dispatcher) recordOutcome(ctx context.Context, task, claimed *arlv1.Task, p plan, out attemptOutcome, start, end time.Time) (*arlv1.Task, verdict, error) {
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), resultWriteBudget)
	defer cancel()
	key := client.ObjectKeyFromObject(task)
	base := claimed
	if base == nil {
		base = task
	}
	var (
		written *arlv1.Task
		v       verdict
		lastErr error
	)
	err := resultWriteBackoff.DelayFunc().Until(wctx, true, false, func(ctx context.Context) (bool, error) {
		from := base
		if claimed == nil {
			from = base.DeepCopy()
			from.Status = claimedStatus(base, p, start)
		}
		obj := base.DeepCopy()
		obj.Status, v = finishedStatus(from, p, out, d.opts.OutputLimitBytes, end)
		err := d.client.Status().Update(ctx, obj)
		switch {
		case err == nil:
			written = obj
			return true, nil
		case apierrors.IsNotFound(err):
			return false, errTaskGone
		case apierrors.IsConflict(err):
			statusWriteConflicts.Inc()
		default:
			lastErr = err
			d.log.Error(err, "status write failed; retrying", "task", key)
		}
		live, err := d.readLive(ctx, key)
		switch {
		case errors.Is(err, errTaskGone):
			return false, err
		case err != nil:
			lastErr = err
			return false, nil
		}
		if claimed != nil && !holdsClaim(live, task.UID, p) || claimed == nil && !attemptStartsFrom(live, task.UID, p) {
			return false, errClaimLost
		}
		base = live
		return false, nil
	})
	switch {
	case err == nil:
		return written, v, nil
	case errors.Is(err, errTaskGone), errors.Is(err, errClaimLost):
		return nil, v, err
	case lastErr != nil:
		return nil, v, fmt.Errorf("record attempt %d: %w", p.attempt, lastErr)
	}
	return nil, v, fmt.Errorf("record attempt %d: %w", p.attempt, err)
}

// readLive reads the task around the cache; a deleted task is errTaskGone.
func (d *dispatcher) readLive(ctx context.Context, key types.NamespacedName) (*arlv1.Task, error) {
	live := &arlv1.Task{}
	if err := d.live.Get(ctx, key, live); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, errTaskGone
		}
		return nil, err
	}
	return live, nil
}

// attemptStartsFrom reports whether the live task is where the attempt
// started: not finished, no other attempt recorded, and the attempt's first
// step next.
func attemptStartsFrom(live *arlv1.Task, uid types.UID, p plan) bool {
	if live.UID != uid || live.IsFinished() {
		return false
	}
	if live.Status.State != arlv1.TaskStateRunning {
		return p.resumeFrom == 0 && live.Status.Attempts == p.attempt-1
	}
	next, ok := resumePoint(live)
	if !ok || next != p.resumeFrom {
		return false
	}
	if p.resumeFrom == 0 {
		return live.Status.Attempts == p.attempt-1
	}
	return live.Status.Attempts == p.attempt
}

// holdsClaim reports whether the live task still carries this worker's
// record of the attempt.
func holdsClaim(live *arlv1.Task, uid types.UID, p plan) bool {
	if live.UID != uid || live.Status.State != arlv1.TaskStateRunning || live.Status.Attempts != p.attempt {
		return false
	}
	if p.resumeFrom >= len(live.Spec.Steps) {
		return true
	}
	steps := live.Status.Steps
	return len(steps) > p.resumeFrom && steps[p.resumeFrom].State == arlv1.StepStateRunning && steps[p.resumeFrom].Attempt == p.attempt
}
