// Package proc starts long-running components as detached background
// processes, records them in pid files and stops them again.
//
// A pid file holds "<pid> <start time>", the start time read from
// /proc/<pid>/stat, so a recycled pid is never mistaken for the component.
package proc

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Spec is a process to start in the background.
type Spec struct {
	Path    string   // executable
	Args    []string // arguments after argv[0]
	Argv0   string   // argv[0]; defaults to Path (multi-call binaries dispatch on it)
	Env     []string // extra environment, appended to the caller's
	Dir     string   // working directory
	LogPath string   // stdout and stderr, appended
	PIDPath string   // pid file to write
}

// Start launches spec in its own session, detached from the caller, and
// records its pid. It returns the pid.
func Start(spec Spec) (int, error) {
	logFile, err := os.OpenFile(spec.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return 0, fmt.Errorf("open log %s: %w", spec.LogPath, err)
	}
	defer logFile.Close()
	fmt.Fprintf(logFile, "==== %s start: %s %s\n", time.Now().UTC().Format(time.RFC3339), spec.Path, strings.Join(spec.Args, " "))

	cmd := exec.Command(spec.Path, spec.Args...)
	if spec.Argv0 != "" {
		cmd.Args[0] = spec.Argv0
	}
	cmd.Env = append(os.Environ(), spec.Env...)
	cmd.Dir = spec.Dir
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("start %s: %w", spec.Path, err)
	}
	pid := cmd.Process.Pid
	start, err := startTime(pid)
	if err != nil {
		_ = cmd.Process.Kill()
		return 0, fmt.Errorf("read start time of %s (pid %d): %w", spec.Path, pid, err)
	}
	if err := os.WriteFile(spec.PIDPath, []byte(fmt.Sprintf("%d %d\n", pid, start)), 0o644); err != nil {
		_ = cmd.Process.Kill()
		return 0, fmt.Errorf("write pid file %s: %w", spec.PIDPath, err)
	}
	// Reap the child if it exits while we still run, so a crash right after
	// start shows as dead rather than as a zombie.
	go func() { _ = cmd.Wait() }()
	return pid, nil
}

// Running reports the pid recorded in pidPath if that process still runs.
func Running(pidPath string) (int, bool) {
	data, err := os.ReadFile(pidPath)
	if err != nil {
		return 0, false
	}
	fields := strings.Fields(string(data))
	if len(fields) != 2 {
		return 0, false
	}
	pid, err1 := strconv.Atoi(fields[0])
	recorded, err2 := strconv.ParseUint(fields[1], 10, 64)
	if err1 != nil || err2 != nil || pid <= 0 {
		return 0, false
	}
	return pid, alive(pid, recorded)
}

// Stop sends SIGTERM to the process recorded in pidPath and its process
// group, waits up to grace, then SIGKILLs them. It removes the pid file.
// Stopping a process that does not run is not an error.
func Stop(pidPath string, grace time.Duration) error {
	pid, ok := Running(pidPath)
	if ok {
		recorded := mustStartTime(pidPath)
		_ = syscall.Kill(pid, syscall.SIGTERM)
		deadline := time.Now().Add(grace)
		for alive(pid, recorded) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if alive(pid, recorded) {
			_ = syscall.Kill(-pid, syscall.SIGKILL)
			_ = syscall.Kill(pid, syscall.SIGKILL)
			for i := 0; alive(pid, recorded) && i < 250; i++ {
				time.Sleep(20 * time.Millisecond)
			}
			if alive(pid, recorded) {
				return fmt.Errorf("pid %d from %s survived SIGKILL", pid, pidPath)
			}
		}
		// Anything the component left in its session goes too.
		_ = syscall.Kill(-pid, syscall.SIGKILL)
	}
	if err := os.Remove(pidPath); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove pid file: %w", err)
	}
	return nil
}

func mustStartTime(pidPath string) uint64 {
	data, _ := os.ReadFile(pidPath)
	fields := strings.Fields(string(data))
	if len(fields) != 2 {
		return 0
	}
	v, _ := strconv.ParseUint(fields[1], 10, 64)
	return v
}

// alive is true when pid exists, is not a zombie and started at the
// recorded time.
func alive(pid int, recorded uint64) bool {
	state, start, err := stat(pid)
	if err != nil || state == "Z" || state == "X" {
		return false
	}
	return start == recorded
}

func startTime(pid int) (uint64, error) {
	_, start, err := stat(pid)
	return start, err
}

// stat reads the state and start time (field 22) of /proc/<pid>/stat.
func stat(pid int) (string, uint64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "", 0, err
	}
	// The command name (field 2) may contain spaces; fields after it start
	// after the last ')'.
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return "", 0, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	fields := strings.Fields(s[i+1:])
	if len(fields) < 20 {
		return "", 0, fmt.Errorf("short /proc/%d/stat", pid)
	}
	start, err := strconv.ParseUint(fields[19], 10, 64)
	if err != nil {
		return "", 0, fmt.Errorf("parse start time in /proc/%d/stat: %w", pid, err)
	}
	return fields[0], start, nil
}

// RSS is the resident memory of pid in bytes, from /proc/<pid>/status.
func RSS(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			fields := strings.Fields(rest)
			if len(fields) == 2 && fields[1] == "kB" {
				kb, err := strconv.ParseInt(fields[0], 10, 64)
				return kb * 1024, err
			}
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}
