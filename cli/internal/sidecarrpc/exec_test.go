package sidecarrpc

import (
	"bytes"
	"testing"

	sidecarv1 "github.com/arl-infra/arl/proto/gen/arl/sidecar/v1"
)

func TestEndCode(t *testing.T) {
	var errOut bytes.Buffer
	cases := []struct {
		end  *sidecarv1.ProcessEnded
		want int
	}{
		{&sidecarv1.ProcessEnded{ExitCode: 0}, 0},
		{&sidecarv1.ProcessEnded{ExitCode: 7}, 7},
		{&sidecarv1.ProcessEnded{ExitCode: -1, Signal: "SIGKILL"}, 137},
		{&sidecarv1.ProcessEnded{ExitCode: -1, TimedOut: true, Signal: "SIGKILL"}, 124},
		{&sidecarv1.ProcessEnded{ExitCode: 300}, 1},
	}
	for _, c := range cases {
		if got := EndCode(&errOut, c.end); got != c.want {
			t.Errorf("EndCode(%v) = %d, want %d", c.end, got, c.want)
		}
	}
	if !bytes.Contains(errOut.Bytes(), []byte("timed out")) {
		t.Errorf("a timeout said nothing on stderr: %q", errOut.String())
	}
}
