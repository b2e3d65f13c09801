// Command arl-kwok is kwok (sigs.k8s.io/kwok, pinned in this module's
// go.mod) with the stages kwokctl installs by default: nodes become Ready at
// once and renew a Lease, pods become Running and Ready at once, finish
// when their containers would, and go away when deleted. No process runs:
// see docs/performance.md, "Simulated nodes", for what this does not
// simulate.
//
// Unless the arguments already name a --config, it writes those stages to
// kwok-stages.yaml in the working directory and passes it as --config; every
// other argument goes to kwok unchanged.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	nodefast "sigs.k8s.io/kwok/kustomize/stage/node/fast"
	nodelease "sigs.k8s.io/kwok/kustomize/stage/node/heartbeat-with-lease"
	podfast "sigs.k8s.io/kwok/kustomize/stage/pod/fast"
	"sigs.k8s.io/kwok/pkg/config"
	"sigs.k8s.io/kwok/pkg/kwok/cmd"
	"sigs.k8s.io/kwok/pkg/log"
	"sigs.k8s.io/kwok/pkg/utils/signals"
)

// defaultStages are kwokctl's defaults for a cluster with node leases.
var defaultStages = []string{
	nodefast.DefaultNodeInit,
	nodelease.DefaultNodeHeartbeatWithLease,
	podfast.DefaultPodReady,
	podfast.DefaultPodComplete,
	podfast.DefaultPodDelete,
}

func main() {
	if !hasConfig(os.Args[1:]) {
		path, err := writeStages("kwok-stages.yaml")
		if err != nil {
			fmt.Fprintf(os.Stderr, "arl-kwok: %v\n", err)
			os.Exit(1)
		}
		os.Args = append([]string{os.Args[0], "--config=" + path}, os.Args[1:]...)
	}
	os.Exit(run())
}

// run is kwok's own main (sigs.k8s.io/kwok/cmd/kwok).
func run() int {
	flagset := pflag.NewFlagSet("global", pflag.ContinueOnError)
	flagset.ParseErrorsAllowlist.UnknownFlags = true
	flagset.Usage = func() {}

	ctx := signals.SetupSignalContext()
	ctx, logger := log.InitFlags(ctx, flagset)
	ctx, err := config.InitFlags(ctx, flagset)
	if err != nil {
		_, _ = os.Stderr.Write([]byte(flagset.FlagUsages()))
		logger.Error("Init config flags", "err", err)
		return 1
	}
	command := cmd.NewCommand(ctx)
	command.PersistentFlags().AddFlagSet(flagset)
	if err := command.ExecuteContext(ctx); err != nil {
		logger.Error("Execute exit", "err", err)
		return 1
	}
	return 0
}

func hasConfig(args []string) bool {
	for _, a := range args {
		if a == "--config" || a == "-c" || strings.HasPrefix(a, "--config=") {
			return true
		}
	}
	return false
}

func writeStages(name string) (string, error) {
	path, err := filepath.Abs(name)
	if err != nil {
		return "", fmt.Errorf("stages file: %w", err)
	}
	var b strings.Builder
	for _, s := range defaultStages {
		b.WriteString("---\n")
		b.WriteString(strings.TrimSpace(s))
		b.WriteString("\n")
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return "", fmt.Errorf("write kwok stages: %w", err)
	}
	return path, nil
}
