package provider

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/arl-infra/arl/tools/node/internal/netsetup"
	"github.com/arl-infra/arl/tools/node/internal/sandbox"
)

// podRuntime is one pod on this node: its sandbox, volumes and containers.
type podRuntime struct {
	p   *Provider
	key string
	uid types.UID // never changes, so read without the lock
	dir string

	ctx    context.Context // cancelled when the pod is deleted
	cancel context.CancelFunc
	wg     sync.WaitGroup // the lifecycle goroutine and container supervisors

	notifyMu        sync.Mutex  // guards the two fields below
	reportTimer     *time.Timer // runs reportStatusNow once the status settled
	unreportedSince time.Time   // the first change not reported yet (zero: none)
	reportMu        sync.Mutex  // keeps status reports in order

	mu                sync.Mutex
	pod               *corev1.Pod
	podIP             string
	startTime         *metav1.Time
	conds             []corev1.PodCondition
	sandboxReady      bool
	initDone          bool
	initFailed        bool
	deleting          bool
	net               *netsetup.PodNetwork
	sb                *sandbox.Sandbox
	volumes           map[string]string // volume name -> host path
	inits             []*containerRuntime
	mains             []*containerRuntime
	warned            map[string]bool // event messages already emitted
	tornDown          bool
	released          bool // completed: sandbox and network already freed
	created           time.Time
	wasReady          bool
	gone              bool              // the API object is deleted: report no more status
	reported          *corev1.PodStatus // the last status reported
	reportedReadiness string            // its readinessLocked
}

func newPodRuntime(p *Provider, pod *corev1.Pod) *podRuntime {
	ctx, cancel := context.WithCancel(context.Background())
	pr := &podRuntime{
		p: p, key: podKey(pod.Namespace, pod.Name), uid: pod.UID,
		dir: filepath.Join(p.cfg.StateDir, "pods", string(pod.UID)),
		ctx: ctx, cancel: cancel, pod: pod, warned: map[string]bool{}, created: time.Now(),
	}
	now := metav1.Now()
	pr.startTime = &now
	for _, c := range pod.Spec.InitContainers {
		pr.inits = append(pr.inits, newContainerRuntime(pr, c, true))
	}
	for _, c := range pod.Spec.Containers {
		pr.mains = append(pr.mains, newContainerRuntime(pr, c, false))
	}
	pr.reportedReadiness = pr.readinessLocked() // what the new pod object says
	return pr
}

func (pr *podRuntime) start() {
	pr.notifyStatus()
	pr.wg.Add(1)
	go pr.run()
}

// run brings the pod up: sandbox, volumes, init containers in order, then
// every container under its own supervisor.
func (pr *podRuntime) run() {
	defer pr.wg.Done()
	if !pr.retry("FailedCreatePodSandBox", pr.setupSandbox) {
		return
	}
	if !pr.retry("FailedMount", pr.prepareVolumes) {
		return
	}
	pr.mu.Lock()
	pr.sandboxReady = true
	pod := pr.pod
	pr.mu.Unlock()
	pr.notifyStatus()
	pr.announceImages(pod)
	go pr.refreshTokens()

	for _, c := range pr.inits {
		if c.restartable() {
			pr.wg.Add(1)
			go c.supervise()
			if !c.waitStarted(pr.ctx) {
				return
			}
			continue
		}
		if !c.runToCompletion() {
			return
		}
	}
	pr.mu.Lock()
	pr.initDone = true
	pr.mu.Unlock()
	pr.notifyStatus()
	for _, c := range pr.mains {
		pr.wg.Add(1)
		go c.supervise()
	}
}

// retry runs step until it succeeds or the pod is deleted, emitting a
// warning event (once per distinct message) on each failure.
func (pr *podRuntime) retry(reason string, step func() error) bool {
	delay := 100 * time.Millisecond
	for {
		err := step()
		if err == nil {
			return true
		}
		pr.p.cfg.Log.Warn("pod setup step failed", "pod", pr.key, "reason", reason, "err", err)
		pr.warnOnce(reason, err.Error())
		pr.mu.Lock()
		for _, c := range append(append([]*containerRuntime{}, pr.inits...), pr.mains...) {
			if c.state.Waiting != nil {
				c.state.Waiting.Message = err.Error()
			}
		}
		pr.mu.Unlock()
		pr.notifyStatus()
		select {
		case <-pr.ctx.Done():
			return false
		case <-time.After(delay):
		}
		delay = min(2*delay, 2*time.Second)
	}
}

func (pr *podRuntime) warnOnce(reason, msg string) {
	pr.mu.Lock()
	seen := pr.warned[reason+msg]
	pr.warned[reason+msg] = true
	pod := pr.pod
	pr.mu.Unlock()
	if !seen {
		pr.event(pod, corev1.EventTypeWarning, reason, msg)
	}
}

func (pr *podRuntime) event(pod *corev1.Pod, kind, reason, msg string) {
	if pr.p.cfg.Recorder != nil {
		pr.p.cfg.Recorder.Event(pod, kind, reason, msg)
	}
}

func (pr *podRuntime) setupSandbox() error {
	pr.mu.Lock()
	if pr.sb != nil {
		pr.mu.Unlock()
		return nil
	}
	uid, name := string(pr.pod.UID), pr.pod.Name
	sharePID := pr.pod.Spec.ShareProcessNamespace != nil && *pr.pod.Spec.ShareProcessNamespace
	pr.mu.Unlock()
	cfg := pr.p.cfg
	addr, err := cfg.IPAM.Allocate(uid)
	if err != nil {
		return fmt.Errorf("allocate pod IP: %w", err)
	}
	n, err := netsetup.CreatePodNetwork(uid, addr, cfg.IPAM.PrefixBits(), cfg.Bridge, cfg.Routes...)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(pr.dir, 0o755); err != nil {
		_ = netsetup.DeletePodNetwork(n)
		return fmt.Errorf("create pod dir: %w", err)
	}
	if err := n.Save(pr.dir); err != nil {
		_ = netsetup.DeletePodNetwork(n)
		return err
	}
	sb, err := sandbox.Start(sandbox.Config{
		Self: cfg.Self, Hostname: name, Dir: pr.dir, NetnsPath: n.NetnsPath(), Hidden: cfg.Hidden,
		SharePIDNamespace: sharePID,
	})
	if err != nil {
		_ = netsetup.DeletePodNetwork(n)
		return err
	}
	pr.mu.Lock()
	pr.net, pr.sb, pr.podIP = &n, sb, addr.String()
	pr.mu.Unlock()
	return nil
}

// currentPod is the latest pod object; treat it as read-only.
func (pr *podRuntime) currentPod() *corev1.Pod {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	return pr.pod
}

func (pr *podRuntime) update(pod *corev1.Pod) {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	updated := pr.pod.DeepCopy()
	updated.ObjectMeta = *pod.ObjectMeta.DeepCopy()
	updated.Spec.ActiveDeadlineSeconds = pod.Spec.ActiveDeadlineSeconds
	updated.Spec.Tolerations = pod.Spec.Tolerations
	for i := range updated.Spec.Containers {
		if i < len(pod.Spec.Containers) {
			updated.Spec.Containers[i].Image = pod.Spec.Containers[i].Image
		}
	}
	pr.pod = updated
}

// snapshotPod is the pod with its status as of now.
func (pr *podRuntime) snapshotPod() *corev1.Pod {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	pod := pr.pod.DeepCopy()
	pod.Status = pr.statusLocked()
	return pod
}

func (pr *podRuntime) statusLocked() corev1.PodStatus {
	snap := podSnapshot{
		Containers: pr.pod.Spec.Containers, InitContainers: pr.pod.Spec.InitContainers,
		Final:        map[string]bool{},
		SandboxReady: pr.sandboxReady, InitDone: pr.initDone, InitFailed: pr.initFailed,
		PodIP: pr.podIP, HostIP: pr.p.cfg.HostIP, StartTime: pr.startTime, Previous: pr.conds,
		QOSClass: pr.pod.Status.QOSClass,
	}
	if snap.QOSClass == "" {
		snap.QOSClass = qosClass(&pr.pod.Spec)
	}
	for _, c := range pr.inits {
		snap.InitSt = append(snap.InitSt, c.statusLocked())
	}
	for _, c := range pr.mains {
		snap.ContainerSt = append(snap.ContainerSt, c.statusLocked())
		if c.final {
			snap.Final[c.spec.Name] = true
		}
	}
	st := computeStatus(snap, metav1.Now())
	// The apiserver sets the QoS class at creation and rejects any change.
	if q := pr.pod.Status.QOSClass; q != "" {
		st.QOSClass = q
	}
	pr.conds = st.Conditions
	if !pr.wasReady && podIsReady(st) {
		pr.wasReady = true
		podStartToReady.Observe(time.Since(pr.created).Seconds())
	}
	return st
}

// delete stops the pod in the background, removes its API object as soon
// as its processes are gone, then its network and files.
func (pr *podRuntime) delete(grace time.Duration) {
	pr.mu.Lock()
	if pr.deleting {
		pr.mu.Unlock()
		return
	}
	pr.deleting = true
	pod := pr.pod
	pr.mu.Unlock()
	go func() {
		start := time.Now()
		pr.stopProcesses(grace)
		stopped := time.Since(start)
		pr.markTerminated()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		removed, err := pr.p.removePodObject(ctx, pod.Namespace, pod.Name, pod.UID)
		if err != nil {
			pr.p.cfg.Log.Error("removing deleted pod object failed; virtual-kubelet will after the grace period", "pod", pr.key, "err", err)
		}
		if removed {
			// Nobody can see a status any more: write none.
			pr.mu.Lock()
			pr.gone = true
			pr.mu.Unlock()
		} else {
			// virtual-kubelet deletes the object once the grace period is
			// over; report the terminal status it expects meanwhile.
			pr.reportStatusNow()
		}
		// The network, IP and files go after the object: nothing the
		// apiserver shows depends on them, and a pod's replacement gets
		// another address meanwhile.
		pr.teardown()
		pr.p.forget(pr)
		podDeleteDuration.Observe(time.Since(start).Seconds())
		pr.p.cfg.Log.Info("pod deleted", "pod", pr.key, "processesGone", stopped, "total", time.Since(start))
	}()
}

// stopProcesses: SIGTERM to every container's process group, SIGKILL to
// what is left after grace, then the whole PID namespace.
func (pr *podRuntime) stopProcesses(grace time.Duration) {
	pr.cancel()
	all := pr.allContainers()
	for _, c := range all {
		c.signal(syscall.SIGTERM)
	}
	if !waitGroupTimeout(&pr.wg, grace) {
		for _, c := range all {
			c.signal(syscall.SIGKILL)
		}
	}
	pr.mu.Lock()
	sb := pr.sb
	pr.mu.Unlock()
	if sb != nil {
		sb.Stop()
		countChildCPU(childPodInit, sb.TakeExitState())
	}
	if !waitGroupTimeout(&pr.wg, 5*time.Second) {
		pr.p.cfg.Log.Error("pod's supervisors did not finish after the pod was killed", "pod", pr.key)
	}
}

func (pr *podRuntime) allContainers() []*containerRuntime {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	return append(append([]*containerRuntime{}, pr.inits...), pr.mains...)
}

// releaseIfCompleted frees the sandbox and network of a pod that will run
// nothing more (Succeeded or Failed), as a kubelet does; its directory (and
// so its logs) stays until the pod is deleted.
func (pr *podRuntime) releaseIfCompleted() {
	pr.mu.Lock()
	done := pr.initFailed || (pr.initDone && len(pr.mains) > 0)
	for _, c := range pr.mains {
		done = done && c.final
	}
	if !done || pr.released || pr.deleting {
		pr.mu.Unlock()
		return
	}
	pr.released = true
	sb, n, uid := pr.sb, pr.net, string(pr.pod.UID)
	pr.mu.Unlock()
	if sb != nil {
		sb.Stop()
		countChildCPU(childPodInit, sb.TakeExitState())
	}
	if n != nil {
		if err := netsetup.DeletePodNetwork(*n); err != nil {
			pr.p.cfg.Log.Error("deleting a completed pod's network failed", "pod", pr.key, "err", err)
		}
	}
	if err := pr.p.cfg.IPAM.Release(uid); err != nil {
		pr.p.cfg.Log.Error("releasing a completed pod's IP failed", "pod", pr.key, "err", err)
	}
}

// teardown removes the pod's network and files.
func (pr *podRuntime) teardown() {
	pr.mu.Lock()
	if pr.tornDown {
		pr.mu.Unlock()
		return
	}
	pr.tornDown = true
	n, uid := pr.net, string(pr.pod.UID)
	pr.mu.Unlock()
	if n != nil {
		if err := netsetup.DeletePodNetwork(*n); err != nil {
			pr.p.cfg.Log.Error("deleting pod network failed", "pod", pr.key, "err", err)
		}
	}
	if err := pr.p.cfg.IPAM.Release(uid); err != nil {
		pr.p.cfg.Log.Error("releasing pod IP failed", "pod", pr.key, "err", err)
	}
	if err := sandbox.UnmountUnder(pr.dir); err != nil {
		pr.p.cfg.Log.Error("unmounting pod dir failed", "pod", pr.key, "err", err)
	}
	if err := os.RemoveAll(pr.dir); err != nil {
		pr.p.cfg.Log.Error("removing pod dir failed", "pod", pr.key, "err", err)
	}
}

// markTerminated gives every container a terminated state, as virtual-kubelet
// expects of a deleted pod.
func (pr *podRuntime) markTerminated() {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	now := metav1.Now()
	for _, c := range append(append([]*containerRuntime{}, pr.inits...), pr.mains...) {
		if c.state.Terminated == nil {
			if c.state.Running != nil {
				c.last = c.state
			}
			c.state = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
				ExitCode: 137, Reason: "Error", Message: "pod deleted", FinishedAt: now, ContainerID: c.containerID,
			}}
		}
		c.ready = false
		c.final = true
	}
	pr.initDone = true
}

func waitGroupTimeout(wg *sync.WaitGroup, d time.Duration) bool {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}

func podIsReady(st corev1.PodStatus) bool {
	for _, c := range st.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// announceImages records, in one event for the whole pod, that its images
// are not pulled and what each container runs instead.
func (pr *podRuntime) announceImages(pod *corev1.Pod) {
	var parts []string
	for _, c := range append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...) {
		if _, binary, _ := pr.p.cfg.Images.Argv(c.Image, c.Command, c.Args); binary != "" {
			parts = append(parts, fmt.Sprintf("%s (%q) runs the local binary %s", c.Name, c.Image, binary))
		} else {
			parts = append(parts, fmt.Sprintf("%s (%q) runs on the host's filesystem with the node's PATH", c.Name, c.Image))
		}
	}
	pr.event(pod, corev1.EventTypeNormal, "RunningOnHost", "Images are not pulled: "+strings.Join(parts, "; "))
}
