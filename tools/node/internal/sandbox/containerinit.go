package sandbox

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

// forwardedSignals are the signals container-init, as PID 1 of a
// container's PID namespace, passes on to the command's process group.
var forwardedSignals = []os.Signal{
	unix.SIGTERM, unix.SIGINT, unix.SIGHUP, unix.SIGQUIT, unix.SIGUSR1, unix.SIGUSR2, unix.SIGWINCH,
}

// superviseCommand is the rest of container-init when the container has a
// PID namespace of its own: it stays PID 1 (as a container runtime's
// --init does), starts the command as a child in a process group of its
// own with the container's credentials, forwards the node's signals to
// that group, reaps every orphan of the namespace, and exits with the
// command's status (128+signal when a signal ended it). Its exit ends the
// namespace: the kernel kills whatever the command left behind.
//
// The command is not PID 1, so a signal it does not handle ends it as it
// does outside a container (PID 1 ignores those), like in a pod that
// shares its process namespace.
func superviseCommand(path string, argv []string, sec Security, status *os.File) int {
	// Signals that come before the command runs wait in the channel: PID
	// 1 without a handler would drop them.
	signals := make(chan os.Signal, 32)
	signal.Notify(signals, append([]os.Signal{unix.SIGCHLD}, forwardedSignals...)...)
	syscall.CloseOnExec(statusFD)
	pid, code, err := startLowered(path, argv, sec)
	if err != nil {
		_, _ = status.WriteString(err.Error())
		fmt.Fprintln(os.Stderr, err)
		return code
	}
	// The command runs: the node reads EOF and reports the container started.
	status.Close()
	if code, done := reapUntil(pid); done {
		return code
	}
	for sig := range signals {
		if sig == unix.SIGCHLD {
			if code, done := reapUntil(pid); done {
				return code
			}
			continue
		}
		s, _ := sig.(syscall.Signal)
		if err := unix.Kill(-pid, s); errors.Is(err, unix.ESRCH) {
			_ = unix.Kill(pid, s)
		}
	}
	return 0
}

// startLowered starts the command from a locked thread whose credentials
// and capabilities were lowered first (a child inherits its thread's): the
// thread is never unlocked, so the runtime discards it. On failure it
// returns the exit code container-init reports.
func startLowered(path string, argv []string, sec Security) (int, int, error) {
	type result struct {
		pid, code int
		err       error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		if err := sec.apply(); err != nil {
			done <- result{code: 128, err: fmt.Errorf("container-init: %w", err)}
			return
		}
		pid, err := syscall.ForkExec(path, argv, &syscall.ProcAttr{
			Env:   os.Environ(),
			Files: []uintptr{0, 1, 2},
			Sys:   &syscall.SysProcAttr{Setpgid: true},
		})
		if err != nil {
			done <- result{code: 126, err: fmt.Errorf("exec %q: %w", path, err)}
			return
		}
		done <- result{pid: pid}
	}()
	r := <-done
	return r.pid, r.code, r.err
}

// reapUntil reaps every exited child and reports the command's exit code
// once the command (pid) is among them.
func reapUntil(pid int) (int, bool) {
	for {
		var ws unix.WaitStatus
		got, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if got <= 0 || err != nil {
			return 0, false
		}
		if got != pid {
			continue
		}
		if ws.Signaled() {
			return 128 + int(ws.Signal()), true
		}
		return ws.ExitStatus(), true
	}
}
