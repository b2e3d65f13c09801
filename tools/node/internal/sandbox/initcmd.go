package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

// Subcommands of the node binary that run inside a pod.
const (
	PodInitCommand       = "pod-init"
	ContainerInitCommand = "container-init"
)

// statusFD is where container-init reports a failure to start; on success
// the descriptor closes on exec and the parent reads EOF.
const statusFD = 3

// specFD is where container-init reads its JSON containerInitSpec (not from
// its arguments: ps in the container shows them).
const specFD = 4

// containerInitSpec is what the node passes to container-init.
type containerInitSpec struct {
	Argv    []string `json:"argv"`
	WorkDir string   `json:"workDir,omitempty"`
	Mounts  []Mount  `json:"mounts,omitempty"`
	// Hidden are host directories covered by an empty read-only tmpfs.
	Hidden   []string `json:"hidden,omitempty"`
	Security Security `json:"security"`
	// OwnPIDNamespace: the container has a PID namespace of its own and
	// container-init stays its PID 1, running the command as its child
	// (see superviseCommand); otherwise container-init execs the command.
	OwnPIDNamespace bool `json:"ownPIDNamespace,omitempty"`
}

// MaybeRunInit runs the pod-init or container-init subcommand when the
// process was started as one, and never returns in that case. Call it first
// thing in main (and in TestMain of tests that start sandboxes).
func MaybeRunInit() {
	if len(os.Args) < 2 {
		return
	}
	switch os.Args[1] {
	case PodInitCommand:
		os.Exit(runPodInit(os.Args[2:]))
	case ContainerInitCommand:
		os.Exit(runContainerInit(os.Args[2:]))
	}
}

// runPodInit is PID 1 of a pod: it names the UTS namespace and reaps.
// args: HOSTNAME POD-DIR (the directory only tags the process for cleanup).
func runPodInit(args []string) int {
	if len(args) < 1 {
		fmt.Fprintln(os.Stderr, "pod-init: usage: pod-init HOSTNAME [POD-DIR]")
		return 2
	}
	if os.Getpid() != 1 {
		fmt.Fprintln(os.Stderr, "pod-init: not PID 1 of a new PID namespace; only arl-node starts it")
		return 2
	}
	if err := unix.Sethostname([]byte(args[0])); err != nil {
		fmt.Fprintf(os.Stderr, "pod-init: set hostname: %v\n", err)
		return 1
	}
	signals := make(chan os.Signal, 16)
	signal.Notify(signals, unix.SIGCHLD, unix.SIGTERM, unix.SIGINT, unix.SIGHUP)
	for sig := range signals {
		if sig != unix.SIGCHLD {
			return 0
		}
		for {
			var ws unix.WaitStatus
			pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
	return 0
}

// runContainerInit prepares the container's mount namespace and execs the
// command. It takes no arguments: it reads its containerInitSpec from specFD.
func runContainerInit(args []string) int {
	status := os.NewFile(statusFD, "status")
	fail := func(code int, format string, a ...any) int {
		msg := fmt.Sprintf(format, a...)
		if status != nil {
			_, _ = status.WriteString(msg)
		}
		fmt.Fprintln(os.Stderr, msg)
		return code
	}
	if len(args) != 0 {
		return fail(2, "container-init: want no arguments, got %d", len(args))
	}
	specFile := os.NewFile(specFD, "spec")
	data, err := io.ReadAll(specFile)
	specFile.Close()
	if err != nil {
		return fail(2, "container-init: read spec: %v", err)
	}
	var spec containerInitSpec
	if err := json.Unmarshal(data, &spec); err != nil {
		return fail(2, "container-init: parse spec: %v", err)
	}
	// The node starts container-init in a PID namespace (the container's
	// own or the pod's) whose parent is outside it (ppid 0). Started by
	// hand, it would mount a /proc over the host's: refuse.
	if os.Getppid() != 0 {
		return fail(2, "container-init: not in a pod's PID namespace; only arl-node starts it")
	}
	// An absolute command (a mapped image's binary) may live under a
	// directory a volume is about to cover (an emptyDir at /tmp with the
	// repository under /tmp): hold it open, and exec it through the
	// descriptor if the mounts hide its path.
	heldFD := -1
	if len(spec.Argv) > 0 && filepath.IsAbs(spec.Argv[0]) {
		if fd, err := unix.Open(spec.Argv[0], unix.O_PATH|unix.O_CLOEXEC, 0); err == nil {
			heldFD = fd
		}
	}
	if err := setupMounts(spec.Mounts, spec.Hidden); err != nil {
		return fail(128, "container-init: %v", err)
	}
	if spec.WorkDir != "" {
		if err := os.MkdirAll(spec.WorkDir, 0o755); err != nil {
			return fail(128, "create working directory %q: %v", spec.WorkDir, err)
		}
		if err := os.Chdir(spec.WorkDir); err != nil {
			return fail(128, "chdir to %q: %v", spec.WorkDir, err)
		}
	}
	if len(spec.Argv) == 0 {
		return fail(128, "no command specified")
	}
	path, err := exec.LookPath(spec.Argv[0])
	if err != nil && heldFD >= 0 {
		path, err = fmt.Sprintf("/proc/self/fd/%d", heldFD), nil
	}
	if err != nil {
		if errors.Is(err, exec.ErrDot) {
			path, err = filepath.Abs(spec.Argv[0])
		}
		if err != nil {
			return fail(127, "exec: %q: executable file not found in $PATH", spec.Argv[0])
		}
	}
	if spec.OwnPIDNamespace {
		return superviseCommand(path, spec.Argv, spec.Security, status)
	}
	// Credentials are per thread: lower them on the thread that execs.
	runtime.LockOSThread()
	if err := spec.Security.apply(); err != nil {
		return fail(128, "container-init: %v", err)
	}
	syscall.CloseOnExec(statusFD)
	err = syscall.Exec(path, spec.Argv, os.Environ())
	return fail(126, "exec %q: %v", path, err)
}
