package v1alpha1

// TaskConcurrency says whether a sandbox's tasks may run at the same time.
// +kubebuilder:validation:Enum=Parallel;Serial
type TaskConcurrency string

const (
	// TaskConcurrencyParallel runs every Ready task of a sandbox at once
	// (the default): tasks are independent requests, and one that never
	// ends (a server, a watcher) must not hold back the others.
	TaskConcurrencyParallel TaskConcurrency = "Parallel"
	// TaskConcurrencySerial runs a sandbox's tasks one at a time in
	// creation order: a task starts once every task of the sandbox created
	// before it has finished, so each sees the effects of the earlier ones.
	TaskConcurrencySerial TaskConcurrency = "Serial"
)

// EffectiveTaskConcurrency is the sandbox's spec.taskConcurrency, else its
// pool's (pool may be nil), else Parallel.
func EffectiveTaskConcurrency(sandbox *Sandbox, pool *WarmPool) TaskConcurrency {
	switch {
	case sandbox != nil && sandbox.Spec.TaskConcurrency != "":
		return sandbox.Spec.TaskConcurrency
	case pool != nil && pool.Spec.TaskConcurrency != "":
		return pool.Spec.TaskConcurrency
	}
	return TaskConcurrencyParallel
}
