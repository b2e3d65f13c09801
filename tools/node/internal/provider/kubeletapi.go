package provider

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strconv"
	"sync"
	"syscall"

	"github.com/creack/pty"
	dto "github.com/prometheus/client_model/go"
	"github.com/virtual-kubelet/virtual-kubelet/errdefs"
	"github.com/virtual-kubelet/virtual-kubelet/node/api"
	statsv1alpha1 "k8s.io/kubelet/pkg/apis/stats/v1alpha1"
	utilexec "k8s.io/utils/exec"

	"github.com/arl-infra/arl/tools/node/internal/sandbox"
)

func (p *Provider) container(namespace, podName, name string) (*podRuntime, *containerRuntime, error) {
	pr := p.lookup(namespace, podName)
	if pr == nil {
		return nil, nil, errdefs.NotFoundf("pod %s/%s is not on this node", namespace, podName)
	}
	for _, c := range pr.allContainers() {
		if c.spec.Name == name || name == "" {
			return pr, c, nil
		}
	}
	return nil, nil, errdefs.NotFoundf("container %q is not in pod %s/%s", name, namespace, podName)
}

// GetContainerLogs serves `kubectl logs` (tail, since, timestamps, follow,
// previous).
func (p *Provider) GetContainerLogs(ctx context.Context, namespace, podName, containerName string, opts api.ContainerLogOpts) (io.ReadCloser, error) {
	pr, c, err := p.container(namespace, podName, containerName)
	if err != nil {
		return nil, err
	}
	pr.mu.Lock()
	run, done := c.run, c.runDone
	pr.mu.Unlock()
	if opts.Previous {
		run--
		done = nil
	}
	if run < 0 {
		if opts.Previous {
			return nil, errdefs.InvalidInputf("previous terminated container %q in pod %q not found", containerName, podName)
		}
		return nil, errdefs.InvalidInputf("container %q in pod %q is waiting to start", containerName, podName)
	}
	running := func() bool {
		if done == nil {
			return false
		}
		select {
		case <-done:
			return false
		default:
			return true
		}
	}
	r, w := io.Pipe()
	go func() {
		w.CloseWithError(streamLogs(ctx, logPath(pr.dir, c.spec.Name, run), opts, running, w))
	}()
	return r, nil
}

// RunInContainer serves `kubectl exec` in the container's namespaces.
func (p *Provider) RunInContainer(ctx context.Context, namespace, podName, containerName string, argv []string, attach api.AttachIO) error {
	pr, c, err := p.container(namespace, podName, containerName)
	if err != nil {
		return err
	}
	pr.mu.Lock()
	pid, env, wd := c.pid, c.env, c.spec.WorkingDir
	pr.mu.Unlock()
	if pid == 0 {
		return errdefs.InvalidInputf("container %q in pod %s/%s is not running", containerName, namespace, podName)
	}
	cmd := sandbox.ExecCommand(pid, argv, env, wd)
	if attach.TTY() {
		return runWithTTY(ctx, cmd, attach)
	}
	if in := attach.Stdin(); in != nil {
		cmd.Stdin = in
	}
	if out := attach.Stdout(); out != nil {
		cmd.Stdout = out
	}
	if e := attach.Stderr(); e != nil {
		cmd.Stderr = e
	}
	cmd.WaitDelay = 2e9
	if err := startKillable(ctx, cmd); err != nil {
		return fmt.Errorf("exec in %s/%s: %w", podName, containerName, err)
	}
	return exitError(cmd.Wait())
}

func runWithTTY(ctx context.Context, cmd *exec.Cmd, attach api.AttachIO) error {
	ptmx, tty, err := pty.Open()
	if err != nil {
		return fmt.Errorf("open pty: %w", err)
	}
	defer ptmx.Close()
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if cmd.Env != nil {
		cmd.Env = append(cmd.Env, "TERM=xterm")
	}
	err = startKillable(ctx, cmd)
	tty.Close()
	if err != nil {
		return fmt.Errorf("exec with tty: %w", err)
	}
	// Resizes stop before the pty closes (deferred above).
	resizeDone := make(chan struct{})
	var resizing sync.WaitGroup
	resizing.Add(1)
	go func() {
		defer resizing.Done()
		sizes := attach.Resize()
		for {
			select {
			case <-resizeDone:
				return
			case size, ok := <-sizes:
				if !ok {
					return
				}
				_ = pty.Setsize(ptmx, &pty.Winsize{Rows: size.Height, Cols: size.Width})
			}
		}
	}()
	defer func() { close(resizeDone); resizing.Wait() }()
	if in := attach.Stdin(); in != nil {
		go func() { _, _ = io.Copy(ptmx, in) }()
	}
	var copyDone sync.WaitGroup
	if out := attach.Stdout(); out != nil {
		copyDone.Add(1)
		go func() { defer copyDone.Done(); _, _ = io.Copy(out, ptmx) }()
	}
	waitErr := cmd.Wait()
	copyDone.Wait() // the pty reads EIO once every holder of the tty is gone
	return exitError(waitErr)
}

// startKillable starts cmd in its own process group and kills the group if
// ctx ends first (the client went away, or a probe timed out).
func startKillable(ctx context.Context, cmd *exec.Cmd) error {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	pid := cmd.Process.Pid
	go func() {
		<-ctx.Done()
		_ = syscall.Kill(-pid, syscall.SIGKILL)
	}()
	return nil
}

// exitError makes a non-zero exit visible to kubectl as an exit code.
func exitError(err error) error {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code := ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			code = 128 + int(ws.Signal())
		}
		return utilexec.CodeExitError{Err: err, Code: code}
	}
	return err
}

// AttachToContainer is not supported: containers' stdio goes to log files.
func (p *Provider) AttachToContainer(context.Context, string, string, string, api.AttachIO) error {
	return errdefs.InvalidInput("attach is not supported on this node; use kubectl logs -f or kubectl exec")
}

// GetStatsSummary reports no stats.
func (p *Provider) GetStatsSummary(context.Context) (*statsv1alpha1.Summary, error) {
	return &statsv1alpha1.Summary{}, nil
}

// GetMetricsResource reports no resource metrics.
func (p *Provider) GetMetricsResource(context.Context) ([]*dto.MetricFamily, error) {
	return nil, nil
}

// PortForward connects the stream to the pod's IP and port.
func (p *Provider) PortForward(ctx context.Context, namespace, podName string, port int32, stream io.ReadWriteCloser) error {
	pr := p.lookup(namespace, podName)
	if pr == nil {
		return errdefs.NotFoundf("pod %s/%s is not on this node", namespace, podName)
	}
	defer stream.Close()
	pr.mu.Lock()
	ip := pr.podIP
	pr.mu.Unlock()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(ip, strconv.Itoa(int(port))))
	if err != nil {
		return fmt.Errorf("port-forward to %s/%s:%d: %w", namespace, podName, port, err)
	}
	defer conn.Close()
	errc := make(chan error, 2)
	go func() { _, err := io.Copy(conn, stream); errc <- err }()
	go func() { _, err := io.Copy(stream, conn); errc <- err }()
	select {
	case err = <-errc:
	case <-ctx.Done():
	}
	return err
}
