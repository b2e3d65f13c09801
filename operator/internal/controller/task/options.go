package task

import (
	"time"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

// Options configures the Task controller. The zero value is usable: every
// field has a default (see withDefaults).
type Options struct {
	// MaxConcurrentTasks bounds the tasks whose steps run at once (default
	// 64). A long task holds one worker; the others keep running tasks.
	MaxConcurrentTasks int
	// QueueSize bounds the tasks waiting for a worker (default 4096); when
	// it is full the reconcile backs off and tries again.
	QueueSize int
	// MaxConcurrentReconciles is the reconcile workers of the Task
	// controller (default 4). Reconciles only decide and dispatch, so a few
	// are enough.
	MaxConcurrentReconciles int
	// SidecarPort is the sidecar's gRPC port on the pod IP (default 50051).
	SidecarPort int
	// OutputLimitBytes caps status.stdout and status.stderr each (default
	// 32 KiB); a truncation marker follows a cut.
	OutputLimitBytes int
	// DefaultTimeout bounds an attempt when spec.timeout is unset (default
	// 30s; the CRD defaults spec.timeout to the same).
	DefaultTimeout time.Duration
	// SucceededEvents records a TaskSucceeded event for every task that
	// succeeds. Off by default: at many tasks per second that event is a
	// third of the API server's writes, and the task's status already says
	// it (kubectl get task). Failures, retries and pauses are always
	// recorded (unless events are disabled).
	SucceededEvents bool
	// ClaimDelay is how long an attempt runs before its Running state is
	// written (default 100ms): an attempt that ends sooner costs one status
	// write instead of two. Steps carry idempotency keys, so a step is never
	// run twice whether or not the claim was written.
	ClaimDelay time.Duration
}

// Defaults of Options.
const (
	DefaultMaxConcurrentTasks      = 64
	DefaultQueueSize               = 4096
	DefaultMaxConcurrentReconciles = 4
	DefaultTaskTimeout             = 30 * time.Second
	DefaultClaimDelay              = 100 * time.Millisecond
)

func (o Options) withDefaults() Options {
	if o.MaxConcurrentTasks <= 0 {
		o.MaxConcurrentTasks = DefaultMaxConcurrentTasks
	}
	if o.QueueSize <= 0 {
		o.QueueSize = DefaultQueueSize
	}
	if o.MaxConcurrentReconciles <= 0 {
		o.MaxConcurrentReconciles = DefaultMaxConcurrentReconciles
	}
	if o.SidecarPort <= 0 {
		o.SidecarPort = arlv1.SidecarGRPCPort
	}
	if o.OutputLimitBytes <= 0 {
		o.OutputLimitBytes = DefaultOutputLimitBytes
	}
	if o.DefaultTimeout <= 0 {
		o.DefaultTimeout = DefaultTaskTimeout
	}
	if o.ClaimDelay <= 0 {
		o.ClaimDelay = DefaultClaimDelay
	}
	return o
}
