package commands

import (
	"bytes"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// The cache key covers --kubeconfig, --context and -n only: a command line
// with any other kubectl flag must neither store nor read an entry (the lean
// front hands such lines over without looking at the cache).
func TestCacheKeyOnlyForTheFlagsItCovers(t *testing.T) {
	cases := []struct {
		args []string
		ok   bool
	}{
		{[]string{"exec", "sb", "--", "true"}, true},
		{[]string{"exec", "-n", "team", "--context", "dev", "--kubeconfig", "/k", "--connect", "direct", "sb", "--", "true"}, true},
		{[]string{"exec", "--server", "https://other:6443", "sb", "--", "true"}, false},
		{[]string{"exec", "--as", "bob", "sb", "--", "true"}, false},
		{[]string{"exec", "--cluster", "c2", "sb", "--", "true"}, false},
		{[]string{"exec", "--no-cache", "sb", "--", "true"}, false},
	}
	for _, c := range cases {
		root, o := newRoot(genericiooptions.IOStreams{In: &bytes.Buffer{}, Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}})
		exec, rest, err := root.Find(c.args)
		if err != nil {
			t.Fatal(err)
		}
		if err := exec.ParseFlags(rest); err != nil {
			t.Fatalf("%q: %v", c.args, err)
		}
		key, ok := o.cacheKey("sb")
		if ok != c.ok {
			t.Errorf("%q: cacheable %v, want %v", c.args, ok, c.ok)
		}
		if ok && key.Sandbox != "sb" {
			t.Errorf("%q: key %+v", c.args, key)
		}
	}
	root, o := newRoot(genericiooptions.IOStreams{})
	exec, rest, _ := root.Find([]string{"exec", "-n", "team", "--context=dev", "sb", "--", "x"})
	_ = exec.ParseFlags(rest)
	if key, _ := o.cacheKey("sb"); key.Namespace != "team" || key.Context != "dev" {
		t.Errorf("key %+v: want namespace team, context dev", key)
	}
}
