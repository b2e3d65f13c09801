// Package netsetup gives each pod a network namespace on the host bridge
// and an address from the pod CIDR.
package netsetup

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
)

// IPAM hands out addresses of a /24-or-smaller CIDR, persisted in a JSON file
// so a restarted node knows which addresses its pods held.
type IPAM struct {
	mu      sync.Mutex
	path    string
	prefix  netip.Prefix
	gateway netip.Addr
	owners  map[string]string // address -> owner (pod UID)
}

// NewIPAM loads (or starts) the allocation file at path. The gateway (the
// first host address) is never handed out.
func NewIPAM(path string, cidr string) (*IPAM, error) {
	prefix, err := netip.ParsePrefix(cidr)
	if err != nil {
		return nil, fmt.Errorf("parse pod CIDR %q: %w", cidr, err)
	}
	prefix = prefix.Masked()
	if !prefix.Addr().Is4() || prefix.Bits() > 30 {
		return nil, fmt.Errorf("pod CIDR %q: need an IPv4 prefix of /30 or larger", cidr)
	}
	a := &IPAM{path: path, prefix: prefix, gateway: prefix.Addr().Next(), owners: map[string]string{}}
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("read IPAM state %s: %w", path, err)
	default:
		if err := json.Unmarshal(data, &a.owners); err != nil {
			return nil, fmt.Errorf("parse IPAM state %s: %w", path, err)
		}
	}
	return a, nil
}

// Gateway is the bridge's address.
func (a *IPAM) Gateway() netip.Addr { return a.gateway }

// PrefixBits is the CIDR's mask length.
func (a *IPAM) PrefixBits() int { return a.prefix.Bits() }

// Allocate returns owner's address, reusing the one it already holds.
func (a *IPAM) Allocate(owner string) (netip.Addr, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for addr, o := range a.owners {
		if o == owner {
			return netip.ParseAddr(addr)
		}
	}
	broadcast := lastAddr(a.prefix)
	for addr := a.gateway.Next(); a.prefix.Contains(addr) && addr != broadcast; addr = addr.Next() {
		if _, taken := a.owners[addr.String()]; taken {
			continue
		}
		a.owners[addr.String()] = owner
		if err := a.saveLocked(); err != nil {
			delete(a.owners, addr.String())
			return netip.Addr{}, err
		}
		return addr, nil
	}
	return netip.Addr{}, fmt.Errorf("pod CIDR %s is full (%d addresses in use)", a.prefix, len(a.owners))
}

// Release frees every address owner holds.
func (a *IPAM) Release(owner string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	changed := false
	for addr, o := range a.owners {
		if o == owner {
			delete(a.owners, addr)
			changed = true
		}
	}
	if !changed {
		return nil
	}
	return a.saveLocked()
}

// Owners lists the owners holding an address.
func (a *IPAM) Owners() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]string, 0, len(a.owners))
	for _, o := range a.owners {
		out = append(out, o)
	}
	return out
}

func (a *IPAM) saveLocked() error {
	data, err := json.MarshalIndent(a.owners, "", "  ")
	if err != nil {
		return fmt.Errorf("encode IPAM state: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(a.path), 0o755); err != nil {
		return fmt.Errorf("create IPAM state dir: %w", err)
	}
	tmp := a.path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("write IPAM state: %w", err)
	}
	if err := os.Rename(tmp, a.path); err != nil {
		return fmt.Errorf("replace IPAM state: %w", err)
	}
	return nil
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().As4()
	hostBits := 32 - p.Bits()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v |= (1 << hostBits) - 1
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}
