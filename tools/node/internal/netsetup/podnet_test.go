package netsetup

import (
	"net/netip"
	"os"
	"strings"
	"testing"
)

func TestDeletePodNetworksInLeavesOtherCIDRs(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("this test creates network namespaces: run it as root")
	}
	const bridge = "arltest2"
	if err := EnsureBridge(bridge, netip.MustParseAddr("10.252.0.1"), 16); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := DeleteBridge(bridge); err != nil {
			t.Errorf("delete bridge: %v", err)
		}
	}()
	mine, err := CreatePodNetwork("sweep-mine", netip.MustParseAddr("10.252.0.9"), 24, bridge)
	if err != nil {
		t.Fatal(err)
	}
	other, err := CreatePodNetwork("sweep-other", netip.MustParseAddr("10.252.1.9"), 24, bridge)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := DeletePodNetwork(other); err != nil {
			t.Errorf("delete pod network: %v", err)
		}
	}()
	if err := DeletePodNetworksIn(netip.MustParsePrefix("10.252.0.0/24")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(mine.NetnsPath()); err == nil {
		t.Fatalf("%s (in the swept CIDR) survived", mine.Netns)
	}
	if _, err := os.Stat(other.NetnsPath()); err != nil {
		t.Fatalf("%s (another CIDR) was removed", other.Netns)
	}
}

// A route (another node's pod network) goes through the bridge's gateway;
// everything else stays unreachable (no default route).
func TestCreatePodNetworkAddsRoutes(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("this test creates network namespaces: run it as root")
	}
	const bridge = "arltest3"
	gateway := netip.MustParseAddr("10.253.0.1")
	if err := EnsureBridge(bridge, gateway, 24); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := DeleteBridge(bridge); err != nil {
			t.Errorf("delete bridge: %v", err)
		}
	}()
	other := netip.MustParsePrefix("10.254.7.0/24")
	n, err := CreatePodNetwork("routes", netip.MustParseAddr("10.253.0.9"), 24, bridge, Route{To: other, Via: gateway})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := DeletePodNetwork(n); err != nil {
			t.Errorf("delete pod network: %v", err)
		}
	}()
	out, err := ipOutput("-n", n.Netns, "-4", "route", "show")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "10.254.7.0/24 via 10.253.0.1 dev eth0") {
		t.Errorf("routes in the pod lack 10.254.7.0/24 via the gateway:\n%s", out)
	}
	if strings.Contains(out, "default") {
		t.Errorf("the pod has a default route:\n%s", out)
	}
}
