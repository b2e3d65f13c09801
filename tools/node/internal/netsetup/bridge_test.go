package netsetup

import (
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// DeleteBridge leaves no trace: neither the bridge nor the FORWARD rule
// EnsureBridge inserts when bridged frames go through iptables.
func TestDeleteBridgeRemovesItsForwardingRule(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("this test creates a bridge and iptables rules: run it as root")
	}
	iptables, err := exec.LookPath("iptables")
	if err != nil {
		t.Fatal("iptables not found: apt-get install iptables")
	}
	const bridge = "arltest4"
	hasRule := func() bool {
		return exec.Command(iptables, append([]string{"-C"}, forwardRule(bridge)...)...).Run() == nil
	}
	if err := EnsureBridge(bridge, netip.MustParseAddr("10.251.0.1"), 24); err != nil {
		t.Fatal(err)
	}
	nf, _ := os.ReadFile("/proc/sys/net/bridge/bridge-nf-call-iptables")
	if strings.TrimSpace(string(nf)) == "1" && !hasRule() {
		t.Errorf("bridge-nf-call-iptables is 1 but EnsureBridge inserted no FORWARD rule for %s", bridge)
	}
	if err := DeleteBridge(bridge); err != nil {
		t.Fatal(err)
	}
	if hasRule() {
		t.Errorf("the FORWARD rule of %s survived DeleteBridge", bridge)
		_ = removeBridgedForwarding(bridge)
	}
	if _, err := os.Stat("/sys/class/net/" + bridge); err == nil {
		t.Errorf("bridge %s survived DeleteBridge", bridge)
	}
	if err := DeleteBridge(bridge); err != nil {
		t.Errorf("a second DeleteBridge (nothing left): %v", err)
	}
}
