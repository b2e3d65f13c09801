package endpointcache

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// setup points the cache and the kubeconfig at a temporary directory.
func setup(t *testing.T) (kubeconfig string) {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", filepath.Join(dir, "cache"))
	t.Setenv(DisableEnv, "")
	kubeconfig = filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte("apiVersion: v1\nkind: Config\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KUBECONFIG", kubeconfig)
	return kubeconfig
}

func entry() Entry {
	return Entry{Namespace: "default", SandboxUID: "uid-1", Pod: "pod-a", IP: "10.0.0.7", Port: 8080, Token: "secret"}
}

func TestStoreLoadRoundTripIsPrivate(t *testing.T) {
	setup(t)
	k := Key{Sandbox: "sb"}
	if Load(k) != nil {
		t.Fatal("hit on an empty cache")
	}
	if err := Store(k, entry()); err != nil {
		t.Fatal(err)
	}
	got := Load(k)
	if got == nil || got.Pod != "pod-a" || got.Token != "secret" || got.Address() != "10.0.0.7:8080" {
		t.Fatalf("Load = %+v", got)
	}
	path, _ := k.file()
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("entry file: %v, mode %v; want 0600", err, fi.Mode().Perm())
	}
	di, err := os.Stat(filepath.Dir(path))
	if err != nil || di.Mode().Perm() != 0o700 {
		t.Fatalf("cache dir: %v, mode %v; want 0700", err, di.Mode().Perm())
	}
	Drop(k)
	if Load(k) != nil {
		t.Fatal("hit after Drop")
	}
	// A directory someone made world-readable is narrowed on the next store.
	if err := os.Chmod(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := Store(k, entry()); err != nil {
		t.Fatal(err)
	}
	if di, err := os.Stat(filepath.Dir(path)); err != nil || di.Mode().Perm() != 0o700 {
		t.Fatalf("cache dir after a store: %v, mode %v; want 0700", err, di.Mode().Perm())
	}
}

func TestKeyCoversEveryInput(t *testing.T) {
	kubeconfig := setup(t)
	base := Key{Context: "c", Namespace: "default", Sandbox: "sb"}
	if err := Store(base, entry()); err != nil {
		t.Fatal(err)
	}
	for _, k := range []Key{
		{Context: "other", Namespace: "default", Sandbox: "sb"},
		{Context: "c", Namespace: "ns2", Sandbox: "sb"},
		{Context: "c", Namespace: "default", Sandbox: "sb2"},
		{Kubeconfig: kubeconfig + ".other", Context: "c", Namespace: "default", Sandbox: "sb"},
	} {
		if Load(k) != nil {
			t.Errorf("%+v hit the entry of %+v", k, base)
		}
	}
	if Load(base) == nil {
		t.Fatal("no hit for the stored key")
	}
	// Any edit of the kubeconfig (use-context, set-context) is a new key.
	later := time.Now().Add(2 * time.Second)
	if err := os.Chtimes(kubeconfig, later, later); err != nil {
		t.Fatal(err)
	}
	if Load(base) != nil {
		t.Fatal("hit after the kubeconfig changed")
	}
}

func TestCorruptForeignAndExpiredEntriesAreMisses(t *testing.T) {
	setup(t)
	k := Key{Sandbox: "sb"}
	path, ok := k.file()
	if !ok {
		t.Fatal("no key with a kubeconfig present")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{
		"not json":      "{garbage",
		"other version": `{"version":99,"sandbox":"sb","ip":"1.2.3.4","port":1,"token":"t","stored":"` + time.Now().Format(time.RFC3339) + `"}`,
		"other sandbox": `{"version":1,"sandbox":"x","ip":"1.2.3.4","port":1,"token":"t","stored":"` + time.Now().Format(time.RFC3339) + `"}`,
		"no token":      `{"version":1,"sandbox":"sb","ip":"1.2.3.4","port":1,"token":"","stored":"` + time.Now().Format(time.RFC3339) + `"}`,
		"bad port":      `{"version":1,"sandbox":"sb","ip":"1.2.3.4","port":70000,"token":"t","stored":"` + time.Now().Format(time.RFC3339) + `"}`,
		"expired":       `{"version":1,"sandbox":"sb","ip":"1.2.3.4","port":1,"token":"t","stored":"` + time.Now().Add(-8*24*time.Hour).Format(time.RFC3339) + `"}`,
	} {
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		if e := Load(k); e != nil {
			t.Errorf("%s: hit %+v", name, e)
		}
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Errorf("%s: the bad entry was not removed", name)
		}
	}
}

func TestNamespaceMustMatch(t *testing.T) {
	setup(t)
	// An entry whose namespace differs from an explicit -n is never used
	// (a hand-edited or colliding file).
	k := Key{Namespace: "team-a", Sandbox: "sb"}
	e := entry()
	e.Namespace = "team-b"
	if err := Store(k, e); err != nil {
		t.Fatal(err)
	}
	if Load(k) != nil {
		t.Fatal("hit with another namespace")
	}
}

func TestNotCached(t *testing.T) {
	setup(t)
	k := Key{Sandbox: "sb"}
	noToken := entry()
	noToken.Token = ""
	if err := Store(k, noToken); err != nil || Load(k) != nil {
		t.Fatalf("a tokenless sidecar was cached (err %v)", err)
	}
	t.Setenv(DisableEnv, "1")
	if err := Store(k, entry()); err != nil {
		t.Fatal(err)
	}
	t.Setenv(DisableEnv, "")
	if Load(k) != nil {
		t.Fatal("stored with ARL_NO_CACHE=1")
	}
	if err := Store(k, entry()); err != nil {
		t.Fatal(err)
	}
	t.Setenv(DisableEnv, "true")
	if Load(k) != nil {
		t.Fatal("read with ARL_NO_CACHE=true")
	}
	t.Setenv(DisableEnv, "")
	t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "missing"))
	if err := Store(k, entry()); err != nil || Load(k) != nil {
		t.Fatalf("cached without any kubeconfig file (err %v)", err)
	}
}

func TestIPv6Address(t *testing.T) {
	e := Entry{IP: "fd00::7", Port: 8080}
	if e.Address() != "[fd00::7]:8080" {
		t.Fatal(e.Address())
	}
}
