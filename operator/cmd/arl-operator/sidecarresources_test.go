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
