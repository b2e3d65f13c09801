package sandbox

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// KillPodsUnder kills every pod-init process whose pod directory lies under
// stateDir and every process in its UTS namespace (the pod's containers,
// each PID 1 of its own PID namespace or in pod-init's), and waits up to
// 5 s for them to go. It returns how many pods it killed.
func KillPodsUnder(stateDir string) (int, error) {
	stateDir = filepath.Clean(stateDir)
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, fmt.Errorf("list /proc: %w", err)
	}
	var pids []int
	podUTS := map[string]bool{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(string(bytes.TrimRight(cmdline, "\x00")), "\x00")
		if len(args) >= 4 && args[1] == PodInitCommand {
			dir := filepath.Clean(args[3])
			if dir == stateDir || strings.HasPrefix(dir, stateDir+"/") {
				pids = append(pids, pid)
				if uts, err := os.Readlink(filepath.Join("/proc", e.Name(), "ns", "uts")); err == nil {
					podUTS[uts] = true
				}
			}
		}
	}
	pods := len(pids)
	pids = append(pids, processesInUTS(entries, podUTS, pids)...)
	for _, pid := range pids {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	deadline := time.Now().Add(5 * time.Second)
	for _, pid := range pids {
		for time.Now().Before(deadline) {
			if _, err := os.Stat(fmt.Sprintf("/proc/%d/cmdline", pid)); err != nil {
				break
			}
			if data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); isZombie(data) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return pods, nil
}

// processesInUTS lists the processes (other than skip) whose UTS namespace
// is one of uts.
func processesInUTS(entries []os.DirEntry, uts map[string]bool, skip []int) []int {
	if len(uts) == 0 {
		return nil
	}
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() || slices.Contains(skip, pid) {
			continue
		}
		if ns, err := os.Readlink(filepath.Join("/proc", e.Name(), "ns", "uts")); err == nil && uts[ns] {
			out = append(out, pid)
		}
	}
	return out
}

func isZombie(stat []byte) bool {
	i := bytes.LastIndexByte(stat, ')')
	return i > 0 && i+2 < len(stat) && stat[i+2] == 'Z'
}
