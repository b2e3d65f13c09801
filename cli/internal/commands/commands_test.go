package commands

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"
)

func TestSplitRemote(t *testing.T) {
	cases := []struct{ arg, sb, path string }{
		{"my-ws:/workspace/a.txt", "my-ws", "/workspace/a.txt"},
		{"my-ws:out/x", "my-ws", "/workspace/out/x"},
		{"./local:file", "", "./local:file"},
		{"/abs/path", "", "/abs/path"},
		{"plain.txt", "", "plain.txt"},
	}
	for _, c := range cases {
		sb, p := splitRemote(c.arg)
		if sb != c.sb || p != c.path {
			t.Errorf("splitRemote(%q) = %q, %q; want %q, %q", c.arg, sb, p, c.sb, c.path)
		}
	}
}

func TestParseEnv(t *testing.T) {
	env, err := parseEnv([]string{"A=1", "B=x=y", "C="})
	if err != nil || env["A"] != "1" || env["B"] != "x=y" || env["C"] != "" || len(env) != 3 {
		t.Fatalf("parseEnv = %v, %v", env, err)
	}
	if _, err := parseEnv([]string{"novalue"}); err == nil {
		t.Fatal("parseEnv accepted an entry without =")
	}
}

func TestSeconds(t *testing.T) {
	if seconds(0) != 0 || seconds(1500*time.Millisecond) != 2 || seconds(3*time.Second) != 3 {
		t.Fatal("seconds rounds timeouts up to whole seconds")
	}
}

func TestExitCode(t *testing.T) {
	if ExitCode(nil) != 0 || ExitCode(errors.New("x")) != 1 || ExitCode(&ExitError{Code: 42}) != 42 {
		t.Fatal("ExitCode maps nil to 0, ExitError to its code, other errors to 1")
	}
}

func TestExecNeedsDash(t *testing.T) {
	var out, errOut bytes.Buffer
	code := Execute(t.Context(), []string{"exec", "sb", "true"}, genericiooptions.IOStreams{In: &bytes.Buffer{}, Out: &out, ErrOut: &errOut})
	if code == 0 || !bytes.Contains(errOut.Bytes(), []byte("put the command after --")) {
		t.Fatalf("exec without --: code %d, stderr %q", code, errOut.String())
	}
}

// TestEveryCommandParsesItsFlags merges each command's flags with the
// persistent kubectl ones (a clashing shorthand panics here, not in use).
func TestEveryCommandParsesItsFlags(t *testing.T) {
	root := NewRoot(genericiooptions.IOStreams{In: &bytes.Buffer{}, Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}})
	for _, c := range root.Commands() {
		var out, errOut bytes.Buffer
		code := Execute(t.Context(), []string{c.Name(), "--help"}, genericiooptions.IOStreams{In: &bytes.Buffer{}, Out: &out, ErrOut: &errOut})
		if code != 0 || !bytes.Contains(out.Bytes(), []byte("Usage:")) {
			t.Errorf("%s --help: exit %d, stderr %q", c.Name(), code, errOut.String())
		}
	}
}
