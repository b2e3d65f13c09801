package netsetup

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
)

// NetnsPrefix names every pod network namespace this node creates, so that
// cleanup can find them.
const NetnsPrefix = "arl-"

// vethPrefix names the host end of each pod's veth pair.
const vethPrefix = "arlv"

// PodNetwork is one pod's network namespace and its address.
type PodNetwork struct {
	Netns string     `json:"netns"` // name under /run/netns
	Veth  string     `json:"veth"`  // host end of the veth pair
	IP    netip.Addr `json:"ip"`    // the pod's eth0 address
}

// networkFile records a pod's network in its directory, so that a later
// cleanup removes exactly the networks of its own pods.
const networkFile = "network.json"

// Save writes the network's record into dir.
func (n PodNetwork) Save(dir string) error {
	data, err := json.Marshal(n)
	if err != nil {
		return fmt.Errorf("encode pod network: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, networkFile), data, 0o644); err != nil {
		return fmt.Errorf("record pod network: %w", err)
	}
	return nil
}

// DeleteRecordedNetworks removes the networks recorded in podsDir/*/.
func DeleteRecordedNetworks(podsDir string) error {
	files, _ := filepath.Glob(filepath.Join(podsDir, "*", networkFile))
	var errs []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		var n PodNetwork
		if err := json.Unmarshal(data, &n); err != nil || !strings.HasPrefix(n.Netns, NetnsPrefix) || !strings.HasPrefix(n.Veth, vethPrefix) {
			errs = append(errs, fmt.Sprintf("%s: not a pod network record", f))
			continue
		}
		if err := DeletePodNetwork(n); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("delete recorded pod networks: %s", strings.Join(errs, "; "))
	}
	return nil
}

// NetnsPath is the namespace's bind-mount, usable with setns.
func (n PodNetwork) NetnsPath() string { return filepath.Join("/run/netns", n.Netns) }

// NamesFor derives the namespace and veth names from a pod ID: 11 hex
// characters of its hash, so the veth name fits IFNAMSIZ (15).
func NamesFor(id string) (netns, veth string) {
	sum := sha256.Sum256([]byte(id))
	short := hex.EncodeToString(sum[:])[:11]
	return NetnsPrefix + short, vethPrefix + short
}

// Route sends a pod's traffic for To through Via (the bridge's gateway,
// the host): how pods reach another node's pod network on this machine.
type Route struct {
	To  netip.Prefix
	Via netip.Addr
}

// CreatePodNetwork creates the namespace with lo up and eth0 (addr/bits) on
// bridge, and no default route: only the pod network and the networks of
// routes are reachable.
func CreatePodNetwork(id string, addr netip.Addr, bits int, bridge string, routes ...Route) (PodNetwork, error) {
	netns, veth := NamesFor(id)
	n := PodNetwork{Netns: netns, Veth: veth, IP: addr}
	_ = DeletePodNetwork(n) // leftovers of an earlier attempt
	// Two `ip -batch` runs (host side, then inside the namespace) instead
	// of six processes.
	host := []string{
		"netns add " + netns,
		fmt.Sprintf("link add %s type veth peer name eth0 address %s netns %s", veth, MACFor(addr), netns),
		fmt.Sprintf("link set %s master %s up", veth, bridge),
	}
	inside := []string{
		fmt.Sprintf("addr add %s/%d dev eth0", addr, bits),
		"link set eth0 up",
		"link set lo up",
	}
	for _, r := range routes {
		inside = append(inside, fmt.Sprintf("route add %s via %s dev eth0", r.To, r.Via))
	}
	if err := ipBatch("", false, host); err != nil {
		_ = DeletePodNetwork(n)
		return PodNetwork{}, fmt.Errorf("pod network %s: %w", netns, err)
	}
	if err := ipBatch(netns, false, inside); err != nil {
		_ = DeletePodNetwork(n)
		return PodNetwork{}, fmt.Errorf("pod network %s: %w", netns, err)
	}
	return n, nil
}

// MACFor derives eth0's MAC address from the pod IP (as Docker does), so a
// new pod that reuses a deleted pod's address also has its MAC, and the
// neighbour entries the host and other pods cached stay right. A random
// MAC would leave them pointing at the gone pod for up to ~30 s.
func MACFor(addr netip.Addr) string {
	b := addr.As4()
	return fmt.Sprintf("02:42:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3])
}

// DeletePodNetwork removes the veth and the namespace; missing ones are fine.
// It looks for them in /sys and /run/netns and removes what it finds with
// one `ip` process (none when nothing is left).
func DeletePodNetwork(n PodNetwork) error {
	var commands []string
	if _, err := os.Stat(filepath.Join("/sys/class/net", n.Veth)); err == nil {
		commands = append(commands, "link del "+n.Veth)
	}
	if _, err := os.Stat(n.NetnsPath()); err == nil {
		commands = append(commands, "netns del "+n.Netns)
	}
	if len(commands) == 0 {
		return nil
	}
	if err := ipBatch("", true, commands); err != nil {
		return fmt.Errorf("delete pod network %s: %w", n.Netns, err)
	}
	return nil
}

// DeletePodNetworksIn removes every pod network namespace (by name prefix)
// whose eth0 address lies in cidr: what a crash between creating a network
// and recording it leaves. (A veth goes with its namespace.) Other nodes'
// pods, in other CIDRs, are left alone.
func DeletePodNetworksIn(cidr netip.Prefix) error {
	var errs []string
	entries, _ := os.ReadDir("/run/netns")
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), NetnsPrefix) {
			continue
		}
		out, _ := ipOutput("-n", e.Name(), "-4", "-o", "addr", "show", "dev", "eth0")
		// A namespace without an address yet may be another node's pod
		// being created right now: only addresses in cidr say it is ours.
		fields := strings.Fields(out)
		inCIDR := false
		if len(fields) >= 4 {
			if p, err := netip.ParsePrefix(fields[3]); err == nil {
				inCIDR = cidr.Contains(p.Addr())
			}
		}
		if inCIDR {
			if err := ip("netns", "del", e.Name()); err != nil {
				errs = append(errs, err.Error())
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("delete pod networks in %s: %s", cidr, strings.Join(errs, "; "))
	}
	return nil
}
