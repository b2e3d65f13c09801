package proc

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestStartRunningStop(t *testing.T) {
	dir := t.TempDir()
	pidPath := filepath.Join(dir, "sleep.pid")
	pid, err := Start(Spec{Path: "/bin/sleep", Args: []string{"60"}, LogPath: filepath.Join(dir, "sleep.log"), PIDPath: pidPath})
	if err != nil {
		t.Fatal(err)
	}
	got, ok := Running(pidPath)
	if !ok || got != pid {
		t.Fatalf("Running = %d, %v; want %d, true", got, ok, pid)
	}
	if rss, err := RSS(pid); err != nil || rss <= 0 {
		t.Fatalf("RSS = %d, %v", rss, err)
	}
	start := time.Now()
	if err := Stop(pidPath, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if time.Since(start) > 2*time.Second {
		t.Errorf("sleep ignored SIGTERM? Stop took %s", time.Since(start))
	}
	if _, ok := Running(pidPath); ok {
		t.Fatal("still running after Stop")
	}
	if _, err := os.Stat(pidPath); !os.IsNotExist(err) {
		t.Fatalf("pid file left: %v", err)
	}
	log, _ := os.ReadFile(filepath.Join(dir, "sleep.log"))
	if !strings.Contains(string(log), "/bin/sleep 60") {
		t.Fatalf("log lacks the start line: %q", log)
	}
}

func TestStopKillsWhatIgnoresSIGTERM(t *testing.T) {
	dir := t.TempDir()
	pidPath := filepath.Join(dir, "stubborn.pid")
	if _, err := Start(Spec{Path: "/bin/sh", Args: []string{"-c", "trap '' TERM; sleep 60"}, LogPath: filepath.Join(dir, "log"), PIDPath: pidPath}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // let the shell install its trap
	if err := Stop(pidPath, 300*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if _, ok := Running(pidPath); ok {
		t.Fatal("still running after Stop")
	}
}

func TestRunningRejectsRecycledPID(t *testing.T) {
	pidPath := filepath.Join(t.TempDir(), "self.pid")
	// Our own pid with a wrong start time: a different process now.
	if err := os.WriteFile(pidPath, []byte(strconv.Itoa(os.Getpid())+" 1"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, ok := Running(pidPath); ok {
		t.Fatal("a pid with another start time counted as running")
	}
}
