package sandbox

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// KillPodsUnder kills every pod-init process (and with it its pod's
// processes) whose pod directory lies under stateDir, and waits up to 5 s
// for them to go. It returns how many it killed.
func KillPodsUnder(stateDir string) (int, error) {
	stateDir = filepath.Clean(stateDir)
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, fmt.Errorf("list /proc: %w", err)
	}
	var pids []int
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
			}
		}
	}
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
	return len(pids), nil
}

func isZombie(stat []byte) bool {
	i := bytes.LastIndexByte(stat, ')')
	return i > 0 && i+2 < len(stat) && stat[i+2] == 'Z'
}
