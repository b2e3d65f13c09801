package provider

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/arl-infra/arl/tools/node/internal/sandbox"
)

// containerRuntime is one container of a pod and its restarts. Fields below
// the spec are guarded by the pod's mutex.
type containerRuntime struct {
	pr   *podRuntime
	spec corev1.Container
	init bool

	state, last corev1.ContainerState
	restarts    int32
	ready       bool
	started     bool
	final       bool
	pid         int
	env         []string
	containerID string
	imageID     string
	run         int32         // index of the current (or last) run's log
	runDone     chan struct{} // closed when the current run's process exited
	startedCh   chan struct{} // closed once the container first started
}

func newContainerRuntime(pr *podRuntime, spec corev1.Container, init bool) *containerRuntime {
	c := &containerRuntime{pr: pr, spec: spec, init: init, startedCh: make(chan struct{}), run: -1}
	reason := "ContainerCreating"
	if init {
		reason = "PodInitializing"
	}
	if !init && len(pr.pod.Spec.InitContainers) > 0 {
		reason = "PodInitializing"
	}
	c.state = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason}}
	return c
}

// restartable: a native sidecar (init container with restartPolicy Always).
func (c *containerRuntime) restartable() bool {
	return c.init && c.spec.RestartPolicy != nil && *c.spec.RestartPolicy == corev1.ContainerRestartPolicyAlways
}

func (c *containerRuntime) statusLocked() corev1.ContainerStatus {
	started := c.started
	return corev1.ContainerStatus{
		Name: c.spec.Name, State: c.state, LastTerminationState: c.last, Ready: c.ready,
		RestartCount: c.restarts, Image: c.spec.Image, ImageID: c.imageID, ContainerID: c.containerID,
		Started: &started,
	}
}

type runOutcome int

const (
	runExited runOutcome = iota
	runNotStarted
	runCancelled
)

// runToCompletion runs an init container until it exits 0 (true), fails for
// good under restartPolicy Never, or the pod is deleted (false).
func (c *containerRuntime) runToCompletion() bool {
	failures := 0
	for {
		code, outcome, _ := c.runOnce()
		if c.pr.ctx.Err() != nil || outcome == runCancelled {
			return false
		}
		if outcome == runNotStarted && code == 0 {
			continue // configuration not ready yet; runOnce waited
		}
		if code == 0 {
			c.setFinal()
			return true
		}
		if c.pr.currentPod().Spec.RestartPolicy == corev1.RestartPolicyNever {
			c.setFinal()
			c.pr.mu.Lock()
			c.pr.initFailed = true
			c.pr.mu.Unlock()
			c.pr.notifyStatus()
			c.pr.releaseIfCompleted()
			return false
		}
		failures++
		if !c.backoff(failures) {
			return false
		}
	}
}

// supervise runs a container and restarts it per the restart policy.
func (c *containerRuntime) supervise() {
	defer c.pr.wg.Done()
	failures := 0
	for {
		code, outcome, ran := c.runOnce()
		if c.pr.ctx.Err() != nil || outcome == runCancelled {
			return
		}
		if outcome == runNotStarted && code == 0 {
			continue
		}
		if !c.shouldRestart(code) {
			c.setFinal()
			return
		}
		if ran >= 10*time.Minute {
			failures = 0
		}
		failures++
		if !c.backoff(failures) {
			return
		}
	}
}

func (c *containerRuntime) shouldRestart(code int32) bool {
	if c.restartable() {
		return true
	}
	switch c.pr.currentPod().Spec.RestartPolicy {
	case corev1.RestartPolicyNever:
		return false
	case corev1.RestartPolicyOnFailure:
		return code != 0
	}
	return true
}

func (c *containerRuntime) setFinal() {
	c.pr.mu.Lock()
	c.final = true
	c.pr.mu.Unlock()
	c.pr.notifyStatus()
	c.pr.releaseIfCompleted()
}

// backoff waits before restart n (the first is immediate, then 10 s doubling
// to 5 min, like a kubelet), showing CrashLoopBackOff meanwhile.
func (c *containerRuntime) backoff(n int) bool {
	delay := time.Duration(0)
	if n > 1 {
		delay = min(10*time.Second<<(n-2), 5*time.Minute)
	}
	c.pr.mu.Lock()
	c.last = c.state
	if delay > 0 {
		c.state = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{
			Reason:  "CrashLoopBackOff",
			Message: fmt.Sprintf("back-off %s restarting failed container=%s pod=%s_%s(%s)", delay, c.spec.Name, c.pr.pod.Name, c.pr.pod.Namespace, c.pr.pod.UID),
		}}
	}
	pod := c.pr.pod
	c.pr.mu.Unlock()
	if delay > 0 {
		c.pr.event(pod, corev1.EventTypeWarning, "BackOff", fmt.Sprintf("Back-off restarting failed container %s in pod %s", c.spec.Name, pod.Name))
		c.pr.notifyStatus()
	}
	select {
	case <-c.pr.ctx.Done():
		return false
	case <-time.After(delay):
	}
	c.pr.mu.Lock()
	c.restarts++
	c.pr.mu.Unlock()
	return true
}

// runOnce starts the container and waits for it to exit. It returns the exit
// code, how the run went, and how long the process ran.
func (c *containerRuntime) runOnce() (int32, runOutcome, time.Duration) {
	pr := c.pr
	cfg := pr.p.cfg
	pr.mu.Lock()
	pod, podIP, sb, run := pr.pod, pr.podIP, pr.sb, c.restarts
	pr.mu.Unlock()
	if pr.ctx.Err() != nil {
		return 0, runCancelled, 0
	}

	env, err := containerEnv(pr.ctx, clientSources{cfg.Client}, pod, &c.spec, podIP, envDefaults{
		APIServerHost: cfg.APIServerHost, APIServerPort: cfg.APIServerPort, NodePath: cfg.NodePath, HostIP: cfg.HostIP,
	})
	if err == nil {
		err = verifyRunAsNonRoot(pod, &c.spec)
	}
	if err != nil {
		c.setWaiting("CreateContainerConfigError", err.Error())
		pr.warnOnce("Failed", "Error: "+err.Error())
		select {
		case <-pr.ctx.Done():
			return 0, runCancelled, 0
		case <-time.After(time.Second):
		}
		return 0, runNotStarted, 0
	}
	argv, binary, argvErr := cfg.Images.Argv(c.spec.Image, c.spec.Command, c.spec.Args)
	argv = expandAll(argv, env)
	c.announceImage(binary)

	containerID := fmt.Sprintf("arl://%s-%s-%d", pod.UID, c.spec.Name, run)
	lw, stdout, stderr, err := newLogWriter(logPath(pr.dir, c.spec.Name, run))
	if err != nil {
		return c.startFailed(pod, containerID, run, 128, err.Error(), time.Now())
	}
	startedAt := time.Now()
	var cmd *exec.Cmd
	if argvErr != nil {
		err = argvErr
	} else {
		cmd, err = sb.StartContainer(sandbox.ContainerSpec{
			Argv: argv, Env: env, WorkDir: c.spec.WorkingDir, Mounts: pr.mountsFor(&c.spec),
			Security: containerSecurity(pod, &c.spec),
			Stdout:   stdout, Stderr: stderr,
		})
	}
	stdout.Close()
	stderr.Close()
	if err != nil {
		code := int32(128)
		var se *sandbox.StartError
		msg := err.Error()
		if errors.As(err, &se) {
			msg = "failed to start container: " + se.Message
		}
		<-lw.Done()
		return c.startFailed(pod, containerID, run, code, msg, startedAt)
	}

	containerStarts.WithLabelValues("started").Inc()
	runDone := make(chan struct{})
	pr.mu.Lock()
	c.pid, c.env, c.containerID, c.run, c.runDone = cmd.Process.Pid, env, containerID, run, runDone
	c.state = corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(startedAt)}}
	c.ready = c.spec.ReadinessProbe == nil
	c.started = c.spec.StartupProbe == nil
	if c.started {
		c.markStartedLocked()
	}
	pr.mu.Unlock()
	pr.event(pod, corev1.EventTypeNormal, "Started", fmt.Sprintf("Started container %s", c.spec.Name))
	if pr.ctx.Err() != nil {
		c.signal(syscall.SIGTERM)
	}
	pr.notifyStatus()

	runCtx, stopProbes := context.WithCancel(pr.ctx)
	c.startProbes(runCtx, podIP)
	waitErr := cmd.Wait()
	countChildCPU(childContainer, cmd.ProcessState)
	stopProbes()
	finishedAt := time.Now()
	code := exitCode(cmd, waitErr)
	<-lw.Done()
	close(runDone)

	reason := "Completed"
	if code != 0 {
		reason = "Error"
	}
	pr.mu.Lock()
	c.pid = 0
	c.ready = false
	c.state = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
		ExitCode: code, Reason: reason, StartedAt: metav1.NewTime(startedAt), FinishedAt: metav1.NewTime(finishedAt), ContainerID: containerID,
	}}
	pr.mu.Unlock()
	pr.notifyStatus()
	return code, runExited, finishedAt.Sub(startedAt)
}

func (c *containerRuntime) startFailed(pod *corev1.Pod, containerID string, run, code int32, msg string, at time.Time) (int32, runOutcome, time.Duration) {
	containerStarts.WithLabelValues("start_error").Inc()
	pr := c.pr
	pr.mu.Lock()
	c.pid = 0
	c.ready = false
	c.containerID = containerID
	c.run, c.runDone = run, nil
	c.state = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
		ExitCode: code, Reason: "StartError", Message: msg,
		StartedAt: metav1.NewTime(time.Unix(0, 0)), FinishedAt: metav1.NewTime(at), ContainerID: containerID,
	}}
	pr.mu.Unlock()
	pr.event(pod, corev1.EventTypeWarning, "Failed", fmt.Sprintf("Error: %s", msg))
	pr.notifyStatus()
	return code, runExited, 0
}

func (c *containerRuntime) markStartedLocked() {
	select {
	case <-c.startedCh:
	default:
		close(c.startedCh)
	}
}

// waitStarted waits for a native sidecar to have started.
func (c *containerRuntime) waitStarted(ctx context.Context) bool {
	select {
	case <-c.startedCh:
		return true
	case <-ctx.Done():
		return false
	}
}

func (c *containerRuntime) setWaiting(reason, msg string) {
	c.pr.mu.Lock()
	c.state = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: msg}}
	c.pr.mu.Unlock()
	c.pr.notifyStatus()
}

// announceImage records the image ID of the run (images are never pulled;
// the pod's RunningOnHost event says so, see announceImages).
func (c *containerRuntime) announceImage(binary string) {
	c.pr.mu.Lock()
	defer c.pr.mu.Unlock()
	if binary != "" {
		c.imageID = "arl-node://binary" + binary
	} else {
		c.imageID = "arl-node://host/" + c.spec.Image
	}
}

// signal sends sig to the container's process group.
func (c *containerRuntime) signal(sig syscall.Signal) {
	c.pr.mu.Lock()
	pid := c.pid
	c.pr.mu.Unlock()
	if pid > 0 {
		_ = syscall.Kill(-pid, sig)
	}
}

// kill stops the current run: SIGTERM, SIGKILL after grace.
func (c *containerRuntime) kill(grace time.Duration) {
	c.pr.mu.Lock()
	done := c.runDone
	c.pr.mu.Unlock()
	c.signal(syscall.SIGTERM)
	if done == nil {
		return
	}
	select {
	case <-done:
	case <-time.After(grace):
		c.signal(syscall.SIGKILL)
	}
}

func exitCode(cmd *exec.Cmd, err error) int32 {
	st := cmd.ProcessState
	if st == nil {
		return 128
	}
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int32(ws.Signal())
	}
	return int32(st.ExitCode())
}

// mountsFor turns a container's volumeMounts into bind mounts.
func (pr *podRuntime) mountsFor(c *corev1.Container) []sandbox.Mount {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	var out []sandbox.Mount
	for _, vm := range c.VolumeMounts {
		src, ok := pr.volumes[vm.Name]
		if !ok {
			continue
		}
		if vm.SubPath != "" {
			src = filepath.Join(src, filepath.Clean("/"+vm.SubPath))
			if _, err := os.Stat(src); os.IsNotExist(err) {
				_ = os.MkdirAll(src, 0o777)
			}
		}
		out = append(out, sandbox.Mount{Source: src, Target: vm.MountPath, ReadOnly: vm.ReadOnly})
	}
	return out
}
