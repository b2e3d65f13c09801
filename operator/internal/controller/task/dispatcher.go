package task

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-logr/logr"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

// startedEventDelay: an attempt still running after this long gets a
// Started event; a quicker one is told by its outcome event alone (which
// names the attempt and the pod), sparing the API server one Event write
// per task on the hot path.
const startedEventDelay = 500 * time.Millisecond

// job is one task handed to a worker.
type job struct {
	key  types.NamespacedName
	task *arlv1.Task
	// resumeFrom is the first step to run: 0 starts a new attempt.
	resumeFrom int
	target     sandboxTarget
}

// dispatcher is the bounded pool of workers that run tasks off the
// reconcile path, and the record of which tasks this process holds.
type dispatcher struct {
	opts     Options
	client   client.Client
	live     client.Reader
	recorder events.EventRecorder
	runner   *stepRunner
	log      logr.Logger

	queue chan job
	// requeue hands a task back to the controller when a worker lets it go
	// without ending it.
	requeue chan event.GenericEvent

	*holdings
}

func newDispatcher(opts Options, c client.Client, live client.Reader, rec events.EventRecorder, runner *stepRunner, log logr.Logger) *dispatcher {
	return &dispatcher{
		opts:     opts,
		client:   c,
		live:     live,
		recorder: rec,
		runner:   runner,
		log:      log,
		queue:    make(chan job, opts.QueueSize),
		requeue:  make(chan event.GenericEvent, 1024),
		holdings: newHoldings(),
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
				d.settle(ctx, j, taskEnd{kind: endStopping})
				return
			}
			d.run(ctx, j)
		}
	}
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

// dispatch queues a task for a worker; a task already held is left alone.
func (d *dispatcher) dispatch(j job) error {
	if !d.take(j.key, j.task.UID) {
		return nil
	}
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

// endKind is how a worker's hold on a task ended.
type endKind int

const (
	// endFinished: this process wrote the task's end (Succeeded or Failed).
	endFinished endKind = iota
	// endPaused: the operator stopped between two steps; the next leader
	// resumes the attempt.
	endPaused
	// endStopping: the operator stops before the next attempt (or before a
	// queued task started); the next leader starts it.
	endStopping
	// endGone: the task was deleted.
	endGone
	// endOtherWriter: another writer holds the attempt; its steps ran under
	// the same idempotency keys as that writer's, so they ran once, and
	// that writer records them.
	endOtherWriter
	// endUnrecorded: what the attempt did could not be written within
	// resultWriteBudget, or another writer changed the attempt's record
	// meanwhile; the task is failed as interrupted, never run again.
	endUnrecorded
)

// taskEnd is the one outcome of a worker's run of a task.
type taskEnd struct {
	kind endKind
	// task is the task as last written (endFinished) or last known.
	task    *arlv1.Task
	attempt int32
	err     error
}

// run runs a task's attempts and settles the outcome in one place.
func (d *dispatcher) run(ctx context.Context, j job) {
	d.setState(j.key, j.task.UID, localRunning)
	runningTasks.Inc()
	defer runningTasks.Dec()
	var taskStart time.Time
	if j.task.Status.StartTime == nil {
		taskStart = time.Now()
	}
	end := d.runAttempts(ctx, j, taskStart)
	d.settle(ctx, j, end)
	if end.kind == endFinished {
		start := taskStart
		if start.IsZero() && end.task.Status.StartTime != nil {
			start = end.task.Status.StartTime.Time
		}
		taskDuration.WithLabelValues(string(end.task.Status.State)).Observe(time.Since(start).Seconds())
	}
}

// runAttempts runs an attempt, records its outcome, and goes on with the
// next attempt while retries remain. The steps start at once, each under
// its idempotency key; the attempt's claim (state Running, the step
// Running) is written only when the steps outlive ClaimDelay, so a quick
// attempt costs a single status write.
func (d *dispatcher) runAttempts(ctx context.Context, j job, taskStart time.Time) taskEnd {
	task, resumeFrom := j.task, j.resumeFrom
	for {
		p := plan{
			attempt:     task.Status.Attempts,
			maxAttempts: maxAttempts(task),
			resumeFrom:  resumeFrom,
			podName:     j.target.podName,
			sandboxUID:  j.target.sandboxUID,
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
			return writeFailure(task, p, err, endOtherWriter)
		}
		done, v, err := d.recordOutcome(ctx, task, claimed, p, out, start, time.Now())
		if err != nil {
			return writeFailure(task, p, err, endUnrecorded)
		}
		d.eventOutcome(done, p, out, v)
		switch v {
		case verdictRetry:
			if ctx.Err() != nil {
				return taskEnd{kind: endStopping, task: done, attempt: p.attempt}
			}
			task, resumeFrom = done, 0
			continue
		case verdictPaused:
			return taskEnd{kind: endPaused, task: done, attempt: p.attempt}
		}
		return taskEnd{kind: endFinished, task: done, attempt: p.attempt}
	}
}

// writeFailure is the end of a run whose status write failed with err:
// endGone when the task was deleted, else kind.
func writeFailure(task *arlv1.Task, p plan, err error, kind endKind) taskEnd {
	if errors.Is(err, errTaskGone) {
		kind = endGone
	}
	return taskEnd{kind: kind, task: task, attempt: p.attempt, err: err}
}

// settle lets go of a task a worker held, by how its run ended.
func (d *dispatcher) settle(ctx context.Context, j job, end taskEnd) {
	log := d.log.WithValues("task", j.key, "sandbox", j.task.Spec.SandboxRef, "pod", j.target.podName, "attempt", end.attempt)
	switch end.kind {
	case endFinished:
		d.finished(ctx, j.key, j.task.UID)
		return
	case endGone:
		log.Info("task deleted while it ran")
	case endOtherWriter:
		log.Info("attempt recorded by another writer; not recording it here", "reason", end.err.Error())
		d.requeueLater(end.task, 0)
	case endUnrecorded:
		log.Error(end.err, "could not record what the attempt did; it will not run again")
		d.requeueLater(end.task, time.Second)
	}
	// endPaused, endStopping: the next leader resumes or starts it.
	d.release(j.key, j.task.UID)
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
