package fastexec

import (
	"slices"
	"testing"
	"time"
)

func TestParseTakesOnlyWhatItKnows(t *testing.T) {
	t.Setenv("ARL_CONNECT", "")
	ok := []struct {
		args []string
		want request
	}{
		{[]string{"exec", "sb", "--", "true"}, request{command: []string{"true"}}},
		{[]string{"-n", "team", "exec", "--context=dev", "sb", "--kubeconfig", "/k", "--", "ls", "-l"},
			request{command: []string{"ls", "-l"}}},
		{[]string{"exec", "sb", "-e", "A=1", "--env=B=2=3", "-eC=", "--cwd", "/tmp", "--timeout=1500ms", "--connect", "direct", "--", "x"},
			request{command: []string{"x"}, cwd: "/tmp", timeout: 1500 * time.Millisecond, env: map[string]string{"A": "1", "B": "2=3", "C": ""}}},
		{[]string{"exec", "sb", "--", "sh", "-n", "--help"}, request{command: []string{"sh", "-n", "--help"}}},
	}
	for _, c := range ok {
		got, handled := parse(c.args)
		if !handled {
			t.Errorf("%q: not taken", c.args)
			continue
		}
		if got.key.Sandbox != "sb" || !slices.Equal(got.command, c.want.command) || got.cwd != c.want.cwd || got.timeout != c.want.timeout || len(got.env) != len(c.want.env) {
			t.Errorf("%q: got %+v", c.args, got)
		}
		for k, v := range c.want.env {
			if got.env[k] != v {
				t.Errorf("%q: env %s = %q, want %q", c.args, k, got.env[k], v)
			}
		}
	}
	got, _ := parse([]string{"--namespace=team", "exec", "--context", "dev", "--kubeconfig=/k", "sb", "--", "true"})
	if got.key.Namespace != "team" || got.key.Context != "dev" || got.key.Kubeconfig != "/k" {
		t.Errorf("key flags: %+v", got.key)
	}
	if got, _ := parse([]string{"-nteam", "exec", "sb", "--", "true"}); got.key.Namespace != "team" {
		t.Errorf("-nteam: %+v", got.key)
	}

	for _, args := range [][]string{
		{"exec", "sb", "true"},                                // no --
		{"exec", "sb", "--"},                                  // no command
		{"exec", "--", "true"},                                // no sandbox
		{"exec", "a", "b", "--", "true"},                      // two sandboxes
		{"ps", "sb", "--", "true"},                            // another command
		{"exec", "-i", "sb", "--", "cat"},                     // stdin
		{"exec", "-d", "sb", "--", "sleep", "9"},              // background
		{"exec", "--stdin", "sb", "--", "cat"},                // stdin, long
		{"exec", "--no-cache", "sb", "--", "true"},            // bypass
		{"exec", "--server", "https://x", "sb", "--", "true"}, // other kubectl flag
		{"exec", "--as=bob", "sb", "--", "true"},              // impersonation
		{"exec", "--help"},                                    // help
		{"exec", "--connect=port-forward", "sb", "--", "true"},
		{"exec", "--connect", "bogus", "sb", "--", "true"},
		{"exec", "--timeout", "soon", "sb", "--", "true"},
		{"exec", "-e", "NOEQUALS", "sb", "--", "true"},
		{"exec", "sb", "--cwd"},
		{"mcp"},
		{},
	} {
		if _, handled := parse(args); handled {
			t.Errorf("%q: taken, want the full CLI", args)
		}
	}
}

func TestParseFollowsARLConnect(t *testing.T) {
	t.Setenv("ARL_CONNECT", "port-forward")
	if _, handled := parse([]string{"exec", "sb", "--", "true"}); handled {
		t.Error("ARL_CONNECT=port-forward: taken")
	}
	if _, handled := parse([]string{"exec", "--connect=direct", "sb", "--", "true"}); !handled {
		t.Error("--connect=direct beats ARL_CONNECT: not taken")
	}
	if _, handled := parse([]string{"exec", "--connect=auto", "sb", "--", "true"}); handled {
		t.Error("ARL_CONNECT overrides --connect=auto in the full CLI: taken")
	}
}

func TestSeconds(t *testing.T) {
	if seconds(0) != 0 || seconds(1500*time.Millisecond) != 2 || seconds(3*time.Second) != 3 {
		t.Fatal("seconds rounds timeouts up to whole seconds")
	}
}
