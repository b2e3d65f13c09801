package netsetup

import (
	"net/netip"
	"path/filepath"
	"testing"
)

func TestIPAMAllocatesPersistsAndReleases(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ipam.json")
	a, err := NewIPAM(path, "10.244.0.0/29")
	if err != nil {
		t.Fatal(err)
	}
	if a.Gateway().String() != "10.244.0.1" {
		t.Fatalf("gateway %s", a.Gateway())
	}
	first, err := a.Allocate("pod-a")
	if err != nil || first.String() != "10.244.0.2" {
		t.Fatalf("first = %s, %v", first, err)
	}
	again, _ := a.Allocate("pod-a")
	if again != first {
		t.Fatalf("the same owner got a second address %s", again)
	}
	for _, o := range []string{"b", "c", "d", "e"} {
		if _, err := a.Allocate(o); err != nil {
			t.Fatal(err)
		}
	}
	// .2-.6 are taken, .7 is the broadcast address.
	if ip, err := a.Allocate("f"); err == nil {
		t.Fatalf("a full /29 handed out %s", ip)
	}
	reloaded, err := NewIPAM(path, "10.244.0.0/29")
	if err != nil {
		t.Fatal(err)
	}
	if ip, _ := reloaded.Allocate("pod-a"); ip != first {
		t.Fatalf("after reload pod-a got %s, want %s", ip, first)
	}
	if err := reloaded.Release("b"); err != nil {
		t.Fatal(err)
	}
	if ip, err := reloaded.Allocate("f"); err != nil || ip.String() != "10.244.0.3" {
		t.Fatalf("released address not reused: %s %v", ip, err)
	}
}

func TestNamesFitInterfaceNames(t *testing.T) {
	ns1, veth1 := NamesFor("11111111-aaaa-bbbb-cccc-000000000001")
	ns2, veth2 := NamesFor("11111111-aaaa-bbbb-cccc-000000000002")
	if ns1 == ns2 || veth1 == veth2 {
		t.Fatalf("pods with a common UID prefix share names: %s %s", ns1, veth1)
	}
	if len(veth1) > 15 {
		t.Fatalf("veth name %q is longer than IFNAMSIZ-1", veth1)
	}
}

func TestMACFollowsIP(t *testing.T) {
	if got := MACFor(netip.MustParseAddr("10.244.0.2")); got != "02:42:0a:f4:00:02" {
		t.Fatalf("MACFor = %s", got)
	}
}
