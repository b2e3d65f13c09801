package netsetup

import (
	"bytes"
	"fmt"
	"os/exec"
	"strings"
)

// ip runs iproute2's `ip` with args and returns its error output on failure.
func ip(args ...string) error {
	cmd := exec.Command("ip", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		if errors := strings.TrimSpace(stderr.String()); errors != "" {
			return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, errors)
		}
		return fmt.Errorf("ip %s: %w (is iproute2 installed? apt-get install iproute2)", strings.Join(args, " "), err)
	}
	return nil
}

func ipOutput(args ...string) (string, error) {
	out, err := exec.Command("ip", args...).Output()
	if err != nil {
		return "", fmt.Errorf("ip %s: %w", strings.Join(args, " "), err)
	}
	return string(out), nil
}

// ipBatch runs commands through one `ip -batch -`, inside netns if set.
func ipBatch(netns string, commands []string) error {
	args := []string{"-batch", "-"}
	if netns != "" {
		args = append([]string{"-n", netns}, args...)
	}
	cmd := exec.Command("ip", args...)
	cmd.Stdin = strings.NewReader(strings.Join(commands, "\n") + "\n")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return nil
}
