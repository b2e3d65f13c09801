package provider

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/virtual-kubelet/virtual-kubelet/node/api"
)

func TestLogWriterAndFormatting(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c", "0.log")
	lw, stdout, stderr, err := newLogWriter(path)
	if err != nil {
		t.Fatal(err)
	}
	stdout.WriteString("one\ntwo\n")
	stderr.WriteString("err-line\n")
	stdout.WriteString("three\n")
	stdout.WriteString("no-newline")
	stdout.Close()
	stderr.Close()
	select {
	case <-lw.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("log writer did not finish")
	}
	lines, _, err := readLogFile(path)
	if err != nil {
		t.Fatal(err)
	}
	all := string(formatLogs(lines, api.ContainerLogOpts{}, time.Now()))
	for _, want := range []string{"one\n", "two\n", "three\n", "err-line\n", "no-newline\n"} {
		if !strings.Contains(all, want) {
			t.Fatalf("logs %q miss %q", all, want)
		}
	}
	tail := string(formatLogs(lines, api.ContainerLogOpts{Tail: 1}, time.Now()))
	if strings.Count(tail, "\n") != 1 {
		t.Fatalf("tail 1 gave %q", tail)
	}
	stamped := string(formatLogs(lines, api.ContainerLogOpts{Tail: 1, Timestamps: true}, time.Now()))
	if _, err := time.Parse(time.RFC3339Nano, strings.Fields(stamped)[0]); err != nil {
		t.Fatalf("timestamps: %q: %v", stamped, err)
	}
	if got := formatLogs(lines, api.ContainerLogOpts{SinceTime: time.Now().Add(time.Hour)}, time.Now()); len(got) != 0 {
		t.Fatalf("since the future gave %q", got)
	}
}

func TestStreamLogsFollows(t *testing.T) {
	path := filepath.Join(t.TempDir(), "0.log")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	writeLine(t, f, " stdout F first\n")
	running := make(chan struct{})
	var out strings.Builder
	done := make(chan error)
	go func() {
		done <- streamLogs(context.Background(), path, api.ContainerLogOpts{Follow: true}, func() bool {
			select {
			case <-running:
				return false
			default:
				return true
			}
		}, &out)
	}()
	time.Sleep(150 * time.Millisecond)
	writeLine(t, f, " stdout F second\n")
	f.Close()
	time.Sleep(250 * time.Millisecond)
	close(running)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if out.String() != "first\nsecond\n" {
		t.Fatalf("followed %q", out.String())
	}
}

// writeLine appends a CRI log line stamped now.
func writeLine(t *testing.T, f *os.File, rest string) {
	t.Helper()
	if _, err := f.WriteString(time.Now().UTC().Format(time.RFC3339Nano) + rest); err != nil {
		t.Fatal(err)
	}
}
