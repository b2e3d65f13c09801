package main

import (
	"flag"
	"io"
	"strings"
	"testing"
)

func TestSidecarResourcesFlag(t *testing.T) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	cfg := bindFlags(fs)
	if err := fs.Parse([]string{`--sidecar-resources={"requests":{"cpu":"50m"},"limits":{"memory":"256Mi"}}`}); err != nil {
		t.Fatal(err)
	}
	if got := cfg.sidecarResources.Requests.Cpu().String(); got != "50m" {
		t.Errorf("requests cpu %s, want 50m", got)
	}
	if got := cfg.sidecarResources.Limits.Memory().String(); got != "256Mi" {
		t.Errorf("limits memory %s, want 256Mi", got)
	}

	bad := flag.NewFlagSet("t", flag.ContinueOnError)
	bad.SetOutput(io.Discard)
	bindFlags(bad)
	err := bad.Parse([]string{"--sidecar-resources=cpu=1"})
	if err == nil || !strings.Contains(err.Error(), "want JSON like") {
		t.Fatalf("bad value: %v, want an error showing the JSON form", err)
	}
}

func TestWorkspaceSizeLimitFlag(t *testing.T) {
	parse := func(args ...string) (*config, error) {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		cfg := bindFlags(fs)
		return cfg, fs.Parse(args)
	}
	cfg, err := parse()
	if err != nil || cfg.workspaceSizeLimit.String() != "10Gi" {
		t.Fatalf("default %s (%v), want 10Gi", cfg.workspaceSizeLimit.String(), err)
	}
	if cfg, err = parse("--workspace-size-limit=0"); err != nil || !cfg.workspaceSizeLimit.IsZero() {
		t.Fatalf("0: %s (%v), want unlimited", cfg.workspaceSizeLimit.String(), err)
	}
	for _, bad := range []string{"lots", "-1Gi"} {
		if _, err := parse("--workspace-size-limit=" + bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
