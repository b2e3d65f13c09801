package netsetup

import (
	"net/netip"
	"os"
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
