package provider

import (
	"time"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
)

// Pod status changes are reported once the status has held for
// statusSettleTime, and at the latest statusMaxDelay after the first change
// not yet reported. So the steps of a pod start (sandbox, init containers
// running then done, containers running), which follow each other within
// milliseconds, or within a second or two on a loaded machine, reach the
// apiserver as one pod status write instead of one write each, while a
// state that holds (a pod stuck in ContainerCreating, a container waiting in
// CrashLoopBackOff) shows after a second. A kubelet's container states lag
// as much: it relists containers every second. The changes consumers wait
// for are reported at once: the pod's Ready condition, a probed container
// turning ready or not ready, and the pod ending (Succeeded or Failed).
const (
	statusSettleTime = time.Second
	statusMaxDelay   = 5 * time.Second
)

// notifyStatus reports the pod's status to virtual-kubelet: at once when
// its readiness changed or it ended, else once it has settled (see
// statusSettleTime).
func (pr *podRuntime) notifyStatus() {
	pr.mu.Lock()
	// A pod being deleted is reported once its processes are gone, and only
	// if its object is not deleted then (see delete).
	deleting := pr.deleting
	urgent := pr.readinessLocked() != pr.reportedReadiness
	pr.mu.Unlock()
	if deleting {
		return
	}
	if urgent {
		pr.reportStatusNow()
		return
	}
	pr.notifyMu.Lock()
	defer pr.notifyMu.Unlock()
	now := time.Now()
	switch {
	case pr.reportTimer == nil:
		pr.reportTimer = time.AfterFunc(statusSettleTime, pr.reportStatusNow)
		pr.unreportedSince = now
	case pr.unreportedSince.IsZero():
		pr.reportTimer.Reset(statusSettleTime)
		pr.unreportedSince = now
	case now.Add(statusSettleTime).Sub(pr.unreportedSince) <= statusMaxDelay:
		pr.reportTimer.Reset(statusSettleTime)
	}
}

// reportStatusNow reports the current status to virtual-kubelet unless it
// equals the last one reported (each report that virtual-kubelet takes is
// a pods/status write, even when only the pod's labels changed meanwhile).
// Reports are serialised, so a later report always carries a newer status.
func (pr *podRuntime) reportStatusNow() {
	pr.reportMu.Lock()
	defer pr.reportMu.Unlock()
	pr.notifyMu.Lock()
	pr.unreportedSince = time.Time{}
	if pr.reportTimer != nil {
		pr.reportTimer.Stop()
	}
	pr.notifyMu.Unlock()
	cb := pr.p.notifier()
	pr.mu.Lock()
	gone := pr.gone
	pr.mu.Unlock()
	if cb == nil || gone {
		return
	}
	pod := pr.snapshotPod()
	pr.mu.Lock()
	same := pr.reported != nil && apiequality.Semantic.DeepEqual(*pr.reported, pod.Status)
	pr.reported = &pod.Status
	pr.reportedReadiness = pr.readinessLocked()
	pr.mu.Unlock()
	if same {
		return
	}
	statusReports.Inc()
	cb(pod)
}

// readinessLocked sums up what is reported at once when it changes: the
// pod's Ready condition, the readiness of each container with a readiness
// probe (a container without one is ready while it runs, which settles
// with the rest), and whether the pod ended (its phase is Succeeded or
// Failed; see computePhase).
func (pr *podRuntime) readinessLocked() string {
	b := make([]byte, 0, len(pr.inits)+len(pr.mains)+2)
	ended := pr.initFailed || (pr.initDone && len(pr.mains) > 0)
	for _, c := range pr.inits {
		if c.spec.ReadinessProbe != nil {
			b = append(b, flag(c.ready))
		}
	}
	for _, c := range pr.mains {
		if c.spec.ReadinessProbe != nil {
			b = append(b, flag(c.ready))
		}
		ended = ended && c.final
	}
	return string(append(b, flag(pr.readyLocked()), flag(ended)))
}

// readyLocked tells, without computing the whole status, whether the pod's
// Ready condition is true (see computeStatus).
func (pr *podRuntime) readyLocked() bool {
	if !pr.initDone || pr.initFailed || len(pr.mains) == 0 {
		return false
	}
	for _, c := range pr.mains {
		if !c.ready || c.final {
			return false
		}
	}
	return true
}

func flag(b bool) byte {
	if b {
		return '1'
	}
	return '0'
}
