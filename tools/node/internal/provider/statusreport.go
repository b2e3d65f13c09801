package provider

import (
	"time"
)

// statusCoalesceWindow is how long a status change waits before it is
// reported, so that the changes of one pod start (sandbox, init container
// running then done, containers running) go to the apiserver as one or two
// pod status writes instead of one each. A change of the pod's readiness,
// which is what consumers wait for, is reported at once.
const statusCoalesceWindow = 100 * time.Millisecond

// notifyStatus reports the pod's status to virtual-kubelet: at once when the
// pod's readiness changed, else within statusCoalesceWindow, together with
// every change made until then.
func (pr *podRuntime) notifyStatus() {
	pr.mu.Lock()
	readinessChanged := pr.readyLocked() != pr.reportedReady
	pr.mu.Unlock()
	if readinessChanged {
		pr.reportStatusNow()
		return
	}
	pr.notifyMu.Lock()
	defer pr.notifyMu.Unlock()
	if pr.reportPending {
		return
	}
	pr.reportPending = true
	time.AfterFunc(statusCoalesceWindow, pr.reportStatusNow)
}

// reportStatusNow reports the current status to virtual-kubelet. Reports are
// serialised, so a later report always carries a newer status. A scheduled
// report that finds nothing new costs no write: virtual-kubelet skips a
// status equal to the last one it received.
func (pr *podRuntime) reportStatusNow() {
	pr.reportMu.Lock()
	defer pr.reportMu.Unlock()
	pr.notifyMu.Lock()
	pr.reportPending = false
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
	pr.reportedReady = podIsReady(pod.Status)
	pr.mu.Unlock()
	statusReports.Inc()
	cb(pod)
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
