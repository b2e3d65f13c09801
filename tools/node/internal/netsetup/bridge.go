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

// forwardRule lets frames between two ports of the bridge through
// iptables' FORWARD chain.
func forwardRule(name string) []string {
	return []string{"FORWARD", "-i", name, "-o", name, "-j", "ACCEPT"}
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
	rule := forwardRule(name)
	if exec.Command(iptables, append([]string{"-C"}, rule...)...).Run() == nil {
		return nil
	}
	if out, err := exec.Command(iptables, append([]string{"-I"}, rule...)...).CombinedOutput(); err != nil {
		return fmt.Errorf("allow forwarding on %s: %w: %s", name, err, out)
	}
	return nil
}

// removeBridgedForwarding deletes what allowBridgedForwarding inserted
// (every copy); none is fine.
func removeBridgedForwarding(name string) error {
	iptables, err := exec.LookPath("iptables")
	if err != nil {
		return nil
	}
	rule := forwardRule(name)
	for exec.Command(iptables, append([]string{"-C"}, rule...)...).Run() == nil {
		if out, err := exec.Command(iptables, append([]string{"-D"}, rule...)...).CombinedOutput(); err != nil {
			return fmt.Errorf("remove the forwarding rule of %s: %w: %s", name, err, out)
		}
	}
	return nil
}

// DeleteBridge removes the bridge and its forwarding rule; a missing
// bridge or rule is not an error.
func DeleteBridge(name string) error {
	if err := removeBridgedForwarding(name); err != nil {
		return err
	}
	if _, err := ipOutput("link", "show", "dev", name); err != nil {
		return nil
	}
	if err := ip("link", "del", name); err != nil {
		return fmt.Errorf("delete bridge %s: %w", name, err)
	}
	return nil
}
