package task

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

// startedEventDelay: an attempt still running after this long gets a
// Started event; a quicker one is told by its outcome event alone (which
// names the attempt and the pod), sparing the API server one Event write
// per task on the hot path.
const startedEventDelay = 500 * time.Millisecond

// resultWriteBudget bounds the retries of a status write that records what
// steps did. Past it the task stays Running with its step marked Running,
// and is failed as interrupted: never run again.
const resultWriteBudget = 30 * time.Second

var (
	errTaskGone  = errors.New("task was deleted")
	errClaimLost = errors.New("the attempt's record was changed by another writer")
)

// job is one task handed to a worker.
type job struct {
	key  types.NamespacedName
	task *arlv1.Task
	// resumeFrom is the first step to run: 0 starts a new attempt.
	resumeFrom int
	target     sandboxTarget
}

type localState int

const (
	localQueued localState = iota
	localRunning
	// localDone: this process wrote the task's end; the cache may still show
	// it Running for a moment.
	localDone
)

type localTask struct {
	uid   types.UID
	state localState
}

// dispatcher is the bounded pool of workers that run tasks off the
// reconcile path, and the record of which tasks this process holds.
type dispatcher struct {
	opts     Options
	client   client.Client
	live     client.Reader
	recorder recorder.EventRecorder
	runner   *stepRunner
	log      logr.Logger

	queue chan job
	// requeue hands a task back to the controller when a worker lets it go
	// without ending it.
	requeue chan event.GenericEvent

	mu    sync.Mutex
	local map[types.NamespacedName]localTask
}

func newDispatcher(opts Options, c client.Client, live client.Reader, rec recorder.EventRecorder, runner *stepRunner, log logr.Logger) *dispatcher {
	return &dispatcher{
		opts:     opts,
		client:   c,
		live:     live,
		recorder: rec,
		runner:   runner,
		log:      log,
		queue:    make(chan job, opts.QueueSize),
		requeue:  make(chan event.GenericEvent, 1024),
		local:    make(map[types.NamespacedName]localTask),
	}
}

// NeedLeaderElection: only the leader runs tasks.
func (d *dispatcher) NeedLeaderElection() bool { return true }

// Start runs the workers until ctx ends, then waits for the steps in flight
// to end and be recorded (within the manager's graceful shutdown timeout).
// Queued tasks are left as they are for the next leader.
func (d *dispatcher) Start(ctx context.Context) error {
	var wg sync.WaitGroup
	for range d.opts.MaxConcurrentTasks {
		wg.Go(func() { d.work(ctx) })
	}
	<-ctx.Done()
	wg.Wait()
	return nil
}

func (d *dispatcher) work(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case j := <-d.queue:
			queueDepth.Dec()
			if ctx.Err() != nil {
				d.release(j.key, j.task.UID)
				return
			}
			d.run(ctx, j)
		}
	}
}

// holds reports whether this process has the task queued or running, or
// has just written its end (so a Running state in the cache is stale).
func (d *dispatcher) holds(key types.NamespacedName, uid types.UID, finished bool) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	t, ok := d.local[key]
	switch {
	case !ok:
		return false
	case t.uid != uid:
		delete(d.local, key)
		return false
	case t.state == localDone && finished:
		delete(d.local, key)
	}
	return true
}

// forget drops the record of a deleted task.
func (d *dispatcher) forget(key types.NamespacedName) {
	d.mu.Lock()
	delete(d.local, key)
	d.mu.Unlock()
}

// release drops the record of a task a worker lets go of; a record of a
// newer task under the same name (a new UID) is left alone.
func (d *dispatcher) release(key types.NamespacedName, uid types.UID) {
	d.mu.Lock()
	if t, ok := d.local[key]; ok && t.uid == uid {
		delete(d.local, key)
	}
	d.mu.Unlock()
}

// finished notes that this process wrote the task's end. Until the cache
// shows it, a reconcile must not take the cached Running state for an
// interrupted attempt; once it does (now, or at the reconcile its watch
// event brings), the record goes.
func (d *dispatcher) finished(ctx context.Context, key types.NamespacedName, uid types.UID) {
	d.setState(key, uid, localDone)
	var cached arlv1.Task
	err := d.client.Get(ctx, key, &cached)
	if apierrors.IsNotFound(err) || (err == nil && cached.UID == uid && cached.IsFinished()) {
		d.release(key, uid)
	}
}

func (d *dispatcher) setState(key types.NamespacedName, uid types.UID, s localState) {
	d.mu.Lock()
	if t, ok := d.local[key]; ok && t.uid == uid {
		t.state = s
		d.local[key] = t
	}
	d.mu.Unlock()
}

// dispatch queues a task for a worker; a task already held is left alone.
func (d *dispatcher) dispatch(j job) error {
	d.mu.Lock()
	if t, ok := d.local[j.key]; ok && t.uid == j.task.UID {
		d.mu.Unlock()
		return nil
	}
	d.local[j.key] = localTask{uid: j.task.UID, state: localQueued}
	d.mu.Unlock()
	queueDepth.Inc()
	select {
	case d.queue <- j:
		return nil
	default:
		queueDepth.Dec()
		d.release(j.key, j.task.UID)
		return fmt.Errorf("task queue full: %d tasks wait for %d workers", d.opts.QueueSize, d.opts.MaxConcurrentTasks)
	}
}

func (d *dispatcher) requeueLater(task *arlv1.Task, after time.Duration) {
	obj := &arlv1.Task{}
	obj.Namespace, obj.Name = task.Namespace, task.Name
	send := func() {
		select {
		case d.requeue <- event.GenericEvent{Object: obj}:
		default: // the channel is full of requeues already; the watch catches up
		}
	}
	if after <= 0 {
		send()
		return
	}
	time.AfterFunc(after, send)
}

// run runs an attempt, records its outcome, and goes on with the next
// attempt while retries remain. The steps start at once, each under its
// idempotency key; the attempt's claim (state Running, the step Running) is
// written only when the steps outlive ClaimDelay, so a quick attempt costs a
// single status write.
func (d *dispatcher) run(ctx context.Context, j job) {
	d.setState(j.key, j.task.UID, localRunning)
	runningTasks.Inc()
	defer runningTasks.Dec()
	log := d.log.WithValues("task", j.key, "sandbox", j.task.Spec.SandboxRef, "pod", j.target.podName)

	task, resumeFrom := j.task, j.resumeFrom
	var taskStart time.Time
	if task.Status.StartTime == nil {
		taskStart = time.Now()
	}
	for {
		p := plan{
			attempt:     task.Status.Attempts,
			maxAttempts: maxAttempts(task),
			resumeFrom:  resumeFrom,
			podName:     j.target.podName,
			taskStart:   taskStart,
		}
		if resumeFrom == 0 {
			p.attempt++
		}
		start := time.Now()
		deadline := start.Add(attemptBudget(task, p, d.opts.DefaultTimeout))
		outcome := make(chan attemptOutcome, 1)
		attemptTask := task
		go func() { outcome <- d.runner.runAttempt(ctx, ctx.Done(), attemptTask, p, j.target, deadline) }()
		started := time.AfterFunc(startedEventDelay, func() { d.eventStarted(attemptTask, p) })

		out, claimed, err := d.awaitAttempt(ctx, task, p, start, outcome)
		started.Stop() // a quick attempt's start is told by its outcome event
		if err != nil {
			// The attempt belongs to another writer (or the task is gone):
			// its steps ran under the same keys as that writer's, so they
			// ran once; that writer records them.
			d.release(j.key, j.task.UID)
			if !errors.Is(err, errTaskGone) {
				log.Info("attempt recorded by another writer; not recording it here", "attempt", p.attempt, "reason", err.Error())
				d.requeueLater(task, 0)
			}
			return
		}
		done, v, err := d.recordOutcome(ctx, task, claimed, p, out, start, time.Now())
		if err != nil {
			d.release(j.key, j.task.UID)
			if errors.Is(err, errTaskGone) {
				log.Info("task deleted while it ran", "attempt", p.attempt)
				return
			}
			log.Error(err, "could not record what the attempt did; it will not run again", "attempt", p.attempt)
			d.requeueLater(task, time.Second)
			return
		}
		d.eventOutcome(done, p, out, v)
		switch v {
		case verdictRetry:
			if ctx.Err() != nil {
				d.release(j.key, j.task.UID) // stopping: the next leader starts the retry
				return
			}
			task, resumeFrom = done, 0
			continue
		case verdictPaused:
			d.release(j.key, j.task.UID)
		default:
			d.finished(ctx, j.key, j.task.UID)
			start := taskStart
			if start.IsZero() && done.Status.StartTime != nil {
				start = done.Status.StartTime.Time
			}
			taskDuration.WithLabelValues(string(done.Status.State)).Observe(time.Since(start).Seconds())
		}
		return
	}
}

// awaitAttempt waits for the attempt's steps. When they outlive ClaimDelay
// it writes the claim meanwhile and returns it; claimed is nil when the
// attempt ended first (or the claim could not be written: the outcome write
// then records everything at once). An error means the task is gone or
// another writer holds the attempt.
func (d *dispatcher) awaitAttempt(ctx context.Context, task *arlv1.Task, p plan, start time.Time, outcome <-chan attemptOutcome) (attemptOutcome, *arlv1.Task, error) {
	timer := time.NewTimer(d.opts.ClaimDelay)
	defer timer.Stop()
	select {
	case out := <-outcome:
		return out, nil, nil
	case <-timer.C:
	}
	if ctx.Err() != nil {
		return <-outcome, nil, nil
	}
	claimed, err := d.writeClaim(ctx, task, p, start)
	out := <-outcome
	switch {
	case errors.Is(err, errTaskGone), errors.Is(err, errClaimLost):
		return out, nil, err
	case err != nil:
		d.log.Error(err, "could not record that the attempt runs; its outcome will say it", "task", client.ObjectKeyFromObject(task), "attempt", p.attempt)
		return out, nil, nil
	}
	return out, claimed, nil
}

// writeClaim records that the attempt runs. A conflict re-reads the task and
// writes again while the live task is still where the attempt started.
func (d *dispatcher) writeClaim(ctx context.Context, task *arlv1.Task, p plan, start time.Time) (*arlv1.Task, error) {
	key := client.ObjectKeyFromObject(task)
	base := task
	for {
		obj := base.DeepCopy()
		obj.Status = claimedStatus(base, p, start)
		err := d.client.Status().Update(ctx, obj)
		switch {
		case err == nil:
			return obj, nil
		case apierrors.IsNotFound(err):
			return nil, errTaskGone
		case !apierrors.IsConflict(err):
			return nil, err
		}
		statusWriteConflicts.Inc()
		live := &arlv1.Task{}
		if err := d.live.Get(ctx, key, live); err != nil {
			if apierrors.IsNotFound(err) {
				return nil, errTaskGone
			}
			return nil, err
		}
		if !attemptStartsFrom(live, task.UID, p) {
			return nil, errClaimLost
		}
		base = live
	}
}

// attemptBudget is the time an attempt has left: spec.timeout, less what
// the steps of a paused attempt already took.
func attemptBudget(task *arlv1.Task, p plan, defaultTimeout time.Duration) time.Duration {
	budget := defaultTimeout
	if task.Spec.Timeout != nil && task.Spec.Timeout.Duration > 0 {
		budget = task.Spec.Timeout.Duration
	}
	for _, s := range task.Status.Steps[:min(p.resumeFrom, len(task.Status.Steps))] {
		if d, err := time.ParseDuration(s.Duration); err == nil {
			budget -= d
		}
	}
	return max(budget, 0)
}

// recordOutcome writes what the steps did: on top of the claim when it was
// written, else claim and outcome in one write based on the task the
// attempt started from. A conflict re-reads the task and applies the same
// outcome again while the live task still carries this attempt (or, claim
// unwritten, is still where it started); the steps are never run again.
func (d *dispatcher) recordOutcome(ctx context.Context, task, claimed *arlv1.Task, p plan, out attemptOutcome, start, end time.Time) (*arlv1.Task, verdict, error) {
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), resultWriteBudget)
	defer cancel()
	key := client.ObjectKeyFromObject(task)
	base := claimed
	if base == nil {
		base = task
	}
	backoff := 50 * time.Millisecond
	for {
		from := base
		if claimed == nil {
			from = base.DeepCopy()
			from.Status = claimedStatus(base, p, start)
		}
		obj := base.DeepCopy()
		var v verdict
		obj.Status, v = finishedStatus(from, p, out, d.opts.OutputLimitBytes, end)
		err := d.client.Status().Update(wctx, obj)
		if err == nil {
			return obj, v, nil
		}
		switch {
		case apierrors.IsNotFound(err):
			return nil, v, errTaskGone
		case apierrors.IsConflict(err):
			statusWriteConflicts.Inc()
		default:
			d.log.Error(err, "status write failed; retrying", "task", key)
			select {
			case <-wctx.Done():
				return nil, v, fmt.Errorf("record attempt %d: %w", p.attempt, err)
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 2*time.Second)
		}
		live := &arlv1.Task{}
		if err := d.live.Get(wctx, key, live); err != nil {
			if apierrors.IsNotFound(err) {
				return nil, v, errTaskGone
			}
			if wctx.Err() != nil {
				return nil, v, fmt.Errorf("record attempt %d: %w", p.attempt, err)
			}
			continue
		}
		if claimed != nil && !holdsClaim(live, task.UID, p) || claimed == nil && !attemptStartsFrom(live, task.UID, p) {
			return nil, v, errClaimLost
		}
		base = live
	}
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

func (d *dispatcher) eventStarted(task *arlv1.Task, p plan) {
	if d.recorder == nil {
		return
	}
	if p.resumeFrom > 0 {
		d.recorder.Eventf(task, nil, corev1.EventTypeNormal, EventReasonResumed, "Run",
			"attempt %d of %d resumed at step %q in pod %s", p.attempt, p.maxAttempts, task.Spec.Steps[min(p.resumeFrom, len(task.Spec.Steps)-1)].Name, p.podName)
		return
	}
	d.recorder.Eventf(task, nil, corev1.EventTypeNormal, arlv1.EventReasonTaskStarted, "Run",
		"attempt %d of %d started in pod %s", p.attempt, p.maxAttempts, p.podName)
}

func (d *dispatcher) eventOutcome(task *arlv1.Task, p plan, out attemptOutcome, v verdict) {
	if d.recorder == nil {
		return
	}
	if f := out.failed(); f != nil {
		d.recorder.Eventf(task, nil, corev1.EventTypeWarning, EventReasonStepFailed, "Run", "%s", truncateMessage(failureMessage(f, p)))
	}
	switch v {
	case verdictSucceeded:
		if !d.opts.SucceededEvents {
			return
		}
		d.recorder.Eventf(task, nil, corev1.EventTypeNormal, arlv1.EventReasonTaskSucceeded, "Run", "%s in pod %s; took %s", task.Status.Message, p.podName, task.Status.Duration)
	case verdictFailed:
		d.recorder.Eventf(task, nil, corev1.EventTypeWarning, arlv1.EventReasonTaskFailed, "Run", "%s (pod %s)", task.Status.Message, p.podName)
	case verdictRetry:
		d.recorder.Eventf(task, nil, corev1.EventTypeWarning, arlv1.EventReasonTaskRetrying, "Run", "%s", task.Status.Message)
	case verdictPaused:
		d.recorder.Eventf(task, nil, corev1.EventTypeNormal, ReasonPaused, "Run", "%s", task.Status.Message)
	}
}
