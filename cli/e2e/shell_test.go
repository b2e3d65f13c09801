//go:build e2e

package e2e

import (
	"bytes"
	"errors"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
)

// TestShellThroughAPseudoTerminal runs `kubectl arl shell` on a real PTY, as
// a person's terminal would: it types commands, resizes the window and
// checks that the remote shell sees the new size, and exits with a code.
func TestShellThroughAPseudoTerminal(t *testing.T) {
	sb := newSandbox(t, "cli-shell")
	cmd := exec.Command(plugin, "shell", sb, "--", "sh")
	ptmx, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 30, Cols: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	var mu sync.Mutex
	var screen bytes.Buffer
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := ptmx.Read(buf)
			mu.Lock()
			screen.Write(buf[:n])
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	expect := func(want string) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			mu.Lock()
			got := screen.String()
			mu.Unlock()
			if strings.Contains(got, want) {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("the terminal never showed %q; screen:\n%s", want, screen.String())
	}
	type_ := func(s string) {
		t.Helper()
		if _, err := ptmx.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	type_("echo $((6*7))-answer\n")
	expect("42-answer")
	type_("tty && stty size | sed 's/ /x/'\n")
	expect("/dev/pts/")
	expect("30x100")
	must(t, pty.Setsize(ptmx, &pty.Winsize{Rows: 40, Cols: 132}))
	time.Sleep(300 * time.Millisecond) // SIGWINCH reaches the plugin, the resize the sidecar
	type_("stty size | sed 's/ /x/'\n")
	expect("40x132")
	type_("exit 3\n")
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 3 {
			t.Fatalf("shell exit: %v, want exit status 3", err)
		}
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("the shell did not end after exit")
	}
}
