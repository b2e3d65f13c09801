package cluster

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// kubeletChains are the iptables chains the kubelet creates at start (its
// canary, kube-proxy's mode hint, and KUBE-FIREWALL with jumps from INPUT
// and OUTPUT dropping outside traffic to 127.0.0.0/8), per table.
var kubeletChains = map[string][]string{
	"filter": {"KUBE-FIREWALL", "KUBE-KUBELET-CANARY"},
	"mangle": {"KUBE-IPTABLES-HINT", "KUBE-KUBELET-CANARY"},
	"nat":    {"KUBE-KUBELET-CANARY"},
}

// removeKubeletChains deletes the rules jumping to the kubelet's chains,
// then the chains, for IPv4 and IPv6. Chains that are not there are fine.
func removeKubeletChains() error {
	var errs []error
	for _, tool := range []string{"iptables", "ip6tables"} {
		for table, chains := range kubeletChains {
			saved, err := exec.Command(tool+"-save", "-t", table).Output()
			if err != nil {
				continue // no such table
			}
			for _, rule := range jumpsTo(string(saved), chains) {
				args := append([]string{"-t", table, "-D"}, strings.Fields(rule)...)
				if out, err := exec.Command(tool, args...).CombinedOutput(); err != nil {
					errs = append(errs, fmt.Errorf("%s %s: %w: %s", tool, strings.Join(args, " "), err, out))
				}
			}
			for _, chain := range chains {
				if !strings.Contains(string(saved), ":"+chain+" ") {
					continue
				}
				for _, op := range []string{"-F", "-X"} {
					if out, err := exec.Command(tool, "-t", table, op, chain).CombinedOutput(); err != nil {
						errs = append(errs, fmt.Errorf("%s -t %s %s %s: %w: %s", tool, table, op, chain, err, out))
					}
				}
			}
		}
	}
	return errors.Join(errs...)
}

// jumpsTo returns, from iptables-save output, the rules (without "-A")
// of other chains that jump to one of chains.
func jumpsTo(saved string, chains []string) []string {
	var rules []string
	for _, line := range strings.Split(saved, "\n") {
		rule, ok := strings.CutPrefix(line, "-A ")
		if !ok {
			continue
		}
		for _, c := range chains {
			if strings.HasSuffix(rule, " -j "+c) && !strings.HasPrefix(rule, c+" ") {
				rules = append(rules, rule)
			}
		}
	}
	return rules
}
