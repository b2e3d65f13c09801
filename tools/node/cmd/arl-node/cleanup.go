package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"

	"github.com/arl-infra/arl/tools/node/internal/netsetup"
	"github.com/arl-infra/arl/tools/node/internal/sandbox"
)

// cleanup kills every pod process of the state dir and removes the pods'
// network namespaces, veths, mounts and files, and the bridge.
func cleanup(log *slog.Logger, stateDir, bridge string) error {
	errs := removePods(log, stateDir)
	// Also sweep networks no record names (a crash between creating one
	// and recording it): after cleanup no pod network of this node remains.
	if rec, err := readNodeRecord(stateDir); err != nil {
		errs = append(errs, err)
	} else if rec.PodCIDR != "" {
		cidr, err := netip.ParsePrefix(rec.PodCIDR)
		if err != nil {
			errs = append(errs, fmt.Errorf("recorded pod CIDR: %w", err))
		} else if err := netsetup.DeletePodNetworksIn(cidr.Masked()); err != nil {
			errs = append(errs, err)
		}
		if rec.Bridge != "" {
			bridge = rec.Bridge
		}
	}
	if err := netsetup.DeleteBridge(bridge); err != nil {
		errs = append(errs, err)
	}
	if err := os.Remove(filepath.Join(stateDir, "ipam.json")); err != nil && !os.IsNotExist(err) {
		errs = append(errs, fmt.Errorf("remove IPAM state: %w", err))
	}
	return errors.Join(errs...)
}

// removePods leaves no pod of this state dir behind: used at start too (a
// restarted node recreates the pods the apiserver still assigns to it), and
// touches no other node's pods.
func removePods(log *slog.Logger, stateDir string) []error {
	var errs []error
	abs, err := filepath.Abs(stateDir)
	if err != nil {
		return []error{fmt.Errorf("state dir: %w", err)}
	}
	n, err := sandbox.KillPodsUnder(abs)
	if err != nil {
		errs = append(errs, err)
	}
	if n > 0 {
		log.Info("killed leftover pods", "count", n)
	}
	if err := netsetup.DeleteRecordedNetworks(filepath.Join(abs, "pods")); err != nil {
		errs = append(errs, err)
	}
	if err := sandbox.UnmountUnder(abs); err != nil {
		errs = append(errs, err)
	}
	if err := os.RemoveAll(filepath.Join(abs, "pods")); err != nil {
		errs = append(errs, fmt.Errorf("remove pod dirs: %w", err))
	}
	return errs
}
