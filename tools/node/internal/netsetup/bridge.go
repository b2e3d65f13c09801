package netsetup

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strings"
)

// EnsureBridge creates the host bridge with the gateway address if missing,
// and makes sure bridged pod-to-pod traffic is not dropped by a host firewall.
func EnsureBridge(name string, gateway netip.Addr, bits int) error {
	if _, err := ipOutput("link", "show", "dev", name); err != nil {
		if err := ip("link", "add", name, "type", "bridge"); err != nil {
			return fmt.Errorf("create bridge %s: %w", name, err)
		}
	}
	addr := fmt.Sprintf("%s/%d", gateway, bits)
	out, err := ipOutput("-4", "addr", "show", "dev", name)
	if err != nil {
		return fmt.Errorf("read bridge %s addresses: %w", name, err)
	}
	if !strings.Contains(out, " "+addr+" ") {
		if err := ip("addr", "add", addr, "dev", name); err != nil {
			return fmt.Errorf("address bridge %s: %w", name, err)
		}
	}
	if err := ip("link", "set", name, "up"); err != nil {
		return fmt.Errorf("bring bridge %s up: %w", name, err)
	}
	return allowBridgedForwarding(name)
}

// allowBridgedForwarding: with br_netfilter loaded, frames between two ports
// of the bridge traverse iptables' FORWARD chain, whose policy may be DROP.
func allowBridgedForwarding(name string) error {
	data, err := os.ReadFile("/proc/sys/net/bridge/bridge-nf-call-iptables")
	if err != nil || strings.TrimSpace(string(data)) != "1" {
		return nil
	}
	iptables, err := exec.LookPath("iptables")
	if err != nil {
		return nil // no iptables tooling: no rules to get past
	}
	rule := []string{"FORWARD", "-i", name, "-o", name, "-j", "ACCEPT"}
	if exec.Command(iptables, append([]string{"-C"}, rule...)...).Run() == nil {
		return nil
	}
	if out, err := exec.Command(iptables, append([]string{"-I"}, rule...)...).CombinedOutput(); err != nil {
		return fmt.Errorf("allow forwarding on %s: %w: %s", name, err, out)
	}
	return nil
}

// DeleteBridge removes the bridge; a missing bridge is not an error.
func DeleteBridge(name string) error {
	if _, err := ipOutput("link", "show", "dev", name); err != nil {
		return nil
	}
	if err := ip("link", "del", name); err != nil {
		return fmt.Errorf("delete bridge %s: %w", name, err)
	}
	return nil
}
