package service

import (
	"time"

	sidecarv1 "github.com/arl-infra/arl/proto/gen/arl/sidecar/v1"
	"github.com/arl-infra/arl/sidecar/internal/process"
)

// Local runs processes in this process through a process.Manager.
type Local struct {
	mgr *process.Manager
	// maxForeground is the ceiling (and the default) of a foreground run's timeout.
	maxForeground time.Duration
}

// NewLocal builds the local process half.
func NewLocal(mgr *process.Manager, maxForeground time.Duration) *Local {
	return &Local{mgr: mgr, maxForeground: maxForeground}
}

// timeout turns a request's timeout_seconds into the run's limit.
func (l *Local) timeout(seconds int32, background bool) (time.Duration, error) {
	if seconds < 0 {
		return 0, invalid("timeout_seconds must not be negative")
	}
	t := time.Duration(seconds) * time.Second
	if background {
		return t, nil
	}
	if t == 0 || (l.maxForeground > 0 && t > l.maxForeground) {
		t = l.maxForeground
	}
	return t, nil
}

func processInfo(info process.Info) *sidecarv1.ProcessInfo {
	return &sidecarv1.ProcessInfo{
		Pid:         int32(info.Pid),
		Command:     info.Argv,
		WorkingDir:  info.Dir,
		Background:  info.Background,
		Done:        info.Done,
		ExitCode:    int32(info.Result.ExitCode),
		Signal:      info.Result.Signal,
		StartedAtMs: info.StartedAt.UnixMilli(),
	}
}

func ended(r process.Result) *sidecarv1.ProcessEnded {
	return &sidecarv1.ProcessEnded{
		ExitCode:   int32(r.ExitCode),
		TimedOut:   r.TimedOut,
		Signal:     r.Signal,
		DurationMs: r.Duration.Milliseconds(),
	}
}
