package sandbox

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Config describes a pod sandbox.
type Config struct {
	// Self is the node binary, re-executed as pod-init and container-init.
	Self string
	// Hostname is the pod's hostname (its name).
	Hostname string
	// Dir tags the pod's init process for cleanup (the pod's state dir).
	Dir string
	// NetnsPath is the pod's network namespace (/run/netns/...).
	NetnsPath string
	// Hidden are host directories no container sees (each is covered by
	// an empty tmpfs): the node's state dir, the cluster's credentials.
	Hidden []string
	// SharePIDNamespace puts every container in the pod's PID namespace,
	// under pod-init (shareProcessNamespace: true). Otherwise each
	// container gets a PID namespace of its own.
	SharePIDNamespace bool
}

// Sandbox holds a running pod's namespaces.
type Sandbox struct {
	cfg       Config
	pause     *exec.Cmd
	waitDone  chan struct{}
	ns        map[int]*os.File // CLONE_NEW* -> namespace file
	closeOnce sync.Once
	exitTaken atomic.Bool

	mu         sync.Mutex
	containers []*os.Process // started containers, for Stop
	stopped    bool
}

// TakeExitState returns the init process's state once it has exited, to
// the first caller only (nil otherwise): its CPU time includes every pod
// process it reaped.
func (s *Sandbox) TakeExitState() *os.ProcessState {
	select {
	case <-s.waitDone:
		if s.exitTaken.CompareAndSwap(false, true) {
			return s.pause.ProcessState
		}
	default:
	}
	return nil
}

// Start creates the pod's PID, UTS and IPC namespaces with pod-init as PID 1,
// inside the network namespace at cfg.NetnsPath. The pod's PID namespace
// holds containers only when cfg.SharePIDNamespace is set.
func Start(cfg Config) (*Sandbox, error) {
	netns, err := os.Open(cfg.NetnsPath)
	if err != nil {
		return nil, fmt.Errorf("open network namespace %s: %w", cfg.NetnsPath, err)
	}
	cmd := exec.Command(cfg.Self, PodInitCommand, cfg.Hostname, cfg.Dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags: syscall.CLONE_NEWPID | syscall.CLONE_NEWUTS | syscall.CLONE_NEWIPC,
		Setpgid:    true,
	}
	devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		netns.Close()
		return nil, fmt.Errorf("open %s: %w", os.DevNull, err)
	}
	defer devnull.Close()
	cmd.Stdin, cmd.Stdout, cmd.Stderr = devnull, devnull, devnull
	if err := startInNamespaces(cmd, map[int]*os.File{unix.CLONE_NEWNET: netns}); err != nil {
		netns.Close()
		return nil, fmt.Errorf("start pod-init: %w", err)
	}
	s := &Sandbox{cfg: cfg, pause: cmd, waitDone: make(chan struct{}), ns: map[int]*os.File{unix.CLONE_NEWNET: netns}}
	go func() { _ = cmd.Wait(); close(s.waitDone) }()
	for flag, name := range map[int]string{unix.CLONE_NEWPID: "pid", unix.CLONE_NEWUTS: "uts", unix.CLONE_NEWIPC: "ipc"} {
		f, err := os.Open(fmt.Sprintf("/proc/%d/ns/%s", cmd.Process.Pid, name))
		if err != nil {
			s.Stop()
			return nil, fmt.Errorf("open pod %s namespace: %w", name, err)
		}
		s.ns[flag] = f
	}
	return s, nil
}

// InitPid is the host PID of the pod's init process.
func (s *Sandbox) InitPid() int { return s.pause.Process.Pid }

// Stop kills every process of the pod (killing PID 1 of a PID namespace
// kills all of it: each container's that has its own, and pod-init's) and
// waits for the init process to go; whoever started a container waits
// for it. Stopping twice is harmless.
func (s *Sandbox) Stop() {
	s.mu.Lock()
	s.stopped = true
	for _, p := range s.containers {
		_ = p.Signal(syscall.SIGKILL)
	}
	s.mu.Unlock()
	_ = s.pause.Process.Signal(syscall.SIGKILL)
	select {
	case <-s.waitDone:
	case <-time.After(5 * time.Second):
	}
	s.closeOnce.Do(func() {
		for _, f := range s.ns {
			f.Close()
		}
	})
}

// ContainerSpec is one container process to start in the sandbox.
type ContainerSpec struct {
	Argv    []string
	Env     []string
	WorkDir string
	Mounts  []Mount
	// Security is the credentials and capabilities the command runs with.
	Security Security
	Stdin    *os.File // nil: /dev/null
	Stdout   *os.File
	Stderr   *os.File
}

// StartError is a container that could not start (missing command,
// bad mount); ExitCode is what the init process exited with.
type StartError struct {
	Message  string
	ExitCode int
}

func (e *StartError) Error() string { return e.Message }

// StartContainer starts a container process in the sandbox's namespaces and
// returns once it has exec'd its command (or failed to, as a *StartError).
// The caller waits for the returned command. Unless the pod shares its PID
// namespace, the process is container-init, PID 1 of the container's own
// PID namespace, with the command as its child; its exit status is the
// command's, and signalling its process group signals the command's.
func (s *Sandbox) StartContainer(spec ContainerSpec) (*exec.Cmd, error) {
	own := !s.cfg.SharePIDNamespace
	specJSON, err := marshalSpec(containerInitSpec{Argv: spec.Argv, WorkDir: spec.WorkDir, Mounts: spec.Mounts,
		Hidden: s.cfg.Hidden, Security: spec.Security, OwnPIDNamespace: own})
	if err != nil {
		return nil, err
	}
	statusR, statusW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("status pipe: %w", err)
	}
	defer statusR.Close()
	specR, specW, err := os.Pipe()
	if err != nil {
		statusW.Close()
		return nil, fmt.Errorf("spec pipe: %w", err)
	}
	// The spec may outgrow the pipe's buffer: write it while the child
	// starts (with the read end closed here, a failed start fails the write).
	go func() {
		_, _ = specW.Write(specJSON)
		specW.Close()
	}()
	cmd := exec.Command(s.cfg.Self, ContainerInitCommand)
	cmd.Env = spec.Env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = spec.Stdin, spec.Stdout, spec.Stderr
	cmd.ExtraFiles = []*os.File{statusW, specR}
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNS, Setpgid: true}
	ns := s.ns
	if own {
		// The kernel refuses CLONE_NEWPID from a thread that joined
		// another PID namespace: create the container's from the host's.
		cmd.SysProcAttr.Cloneflags |= syscall.CLONE_NEWPID
		ns = make(map[int]*os.File, len(s.ns))
		for flag, f := range s.ns {
			if flag != unix.CLONE_NEWPID {
				ns[flag] = f
			}
		}
	}
	err = startInNamespaces(cmd, ns)
	statusW.Close()
	specR.Close()
	if err != nil {
		return nil, fmt.Errorf("start container-init: %w", err)
	}
	s.track(cmd.Process)
	msg := make([]byte, 4096)
	n, _ := readFull(statusR, msg)
	if n == 0 {
		return cmd, nil
	}
	state, _ := cmd.Process.Wait()
	code := 128
	if state != nil && state.ExitCode() > 0 {
		code = state.ExitCode()
	}
	return nil, &StartError{Message: string(msg[:n]), ExitCode: code}
}

// track remembers a started container for Stop, forgetting the ones that
// were waited for (signalling those is a no-op: os.Process knows). A
// container whose start raced Stop (which closes the namespace files that
// later starts would join) is killed: its own PID namespace would outlive
// pod-init's.
func (s *Sandbox) track(p *os.Process) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		_ = p.Signal(syscall.SIGKILL)
	}
	live := s.containers[:0]
	for _, c := range s.containers {
		if !errors.Is(c.Signal(syscall.Signal(0)), os.ErrProcessDone) {
			live = append(live, c)
		}
	}
	s.containers = append(live, p)
}

// ExecCommand builds a command that runs argv inside the running container
// whose host PID is pid (all its namespaces, including its mounts and its
// PID namespace, the container's own unless the pod shares one).
func ExecCommand(pid int, argv, env []string, workDir string) *exec.Cmd {
	args := []string{"--target", fmt.Sprint(pid), "--mount", "--uts", "--ipc", "--net", "--pid"}
	if workDir != "" {
		args = append(args, "--wdns="+workDir)
	}
	args = append(args, "--")
	args = append(args, argv...)
	cmd := exec.Command("nsenter", args...)
	cmd.Env = env
	return cmd
}

// startInNamespaces starts cmd from an OS thread that joined the given
// namespaces. The thread is never unlocked, so the Go runtime discards it
// afterwards instead of reusing a thread in a pod's namespaces.
func startInNamespaces(cmd *exec.Cmd, ns map[int]*os.File) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// Join the PID namespace last: it only affects children.
		order := []int{unix.CLONE_NEWNET, unix.CLONE_NEWUTS, unix.CLONE_NEWIPC, unix.CLONE_NEWPID}
		for _, flag := range order {
			f, ok := ns[flag]
			if !ok {
				continue
			}
			if err := unix.Setns(int(f.Fd()), flag); err != nil {
				errc <- fmt.Errorf("setns %s: %w", f.Name(), err)
				return
			}
		}
		errc <- cmd.Start()
	}()
	return <-errc
}

func readFull(f *os.File, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := f.Read(buf[n:])
		n += m
		if err != nil {
			if errors.Is(err, os.ErrClosed) {
				return n, nil
			}
			return n, nil
		}
	}
	return n, nil
}
