package netsetup

import (
	"bytes"
	"fmt"
	"os/exec"
	"strings"
	"sync/atomic"
	"time"
)

// ipCPUNanos adds up the CPU time of every `ip` process run.
var ipCPUNanos atomic.Int64

// ProcessCPU is the CPU time (user+system) of the `ip` processes run so far.
func ProcessCPU() time.Duration { return time.Duration(ipCPUNanos.Load()) }

func runIP(cmd *exec.Cmd) error {
	err := cmd.Run()
	if st := cmd.ProcessState; st != nil {
		ipCPUNanos.Add(int64(st.UserTime() + st.SystemTime()))
	}
	return err
}

// ip runs iproute2's `ip` with args and returns its error output on failure.
func ip(args ...string) error {
	cmd := exec.Command("ip", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := runIP(cmd); err != nil {
		if errors := strings.TrimSpace(stderr.String()); errors != "" {
			return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, errors)
		}
		return fmt.Errorf("ip %s: %w (is iproute2 installed? apt-get install iproute2)", strings.Join(args, " "), err)
	}
	return nil
}

func ipOutput(args ...string) (string, error) {
	cmd := exec.Command("ip", args...)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	if err := runIP(cmd); err != nil {
		return "", fmt.Errorf("ip %s: %w", strings.Join(args, " "), err)
	}
	return stdout.String(), nil
}

// ipBatch runs commands through one `ip -batch -`, inside netns if set.
// With force, it runs every command even after one failed.
func ipBatch(netns string, force bool, commands []string) error {
	args := []string{"-batch", "-"}
	if force {
		args = append([]string{"-force"}, args...)
	}
	if netns != "" {
		args = append([]string{"-n", netns}, args...)
	}
	cmd := exec.Command("ip", args...)
	cmd.Stdin = strings.NewReader(strings.Join(commands, "\n") + "\n")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := runIP(cmd); err != nil {
		return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return nil
}
