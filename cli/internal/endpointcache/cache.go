// Package endpointcache remembers, per kubeconfig + context + namespace +
// sandbox name, where a sandbox's sidecar is and its token, so a later
// `kubectl arl exec` dials the sidecar with no API server round trip.
//
// An entry is only a hint. The token is the proof of identity: each pool pod
// gets its own random token (its Secret) and a pod is never reused by
// another sandbox (deleting a sandbox deletes its pod), so a sidecar that
// accepts the cached token is the cached sandbox's own pod. Anything else (a
// refused token from a pod that took over the IP, nothing listening) makes
// the caller drop the entry and resolve through the API server. Sandboxes
// whose pool runs without sidecar auth (no token) are never cached: nothing
// would tell their pods apart.
//
// The key covers every input of kubectl's resolution the fast path accepts:
// the kubeconfig files in effect (path, size, mtime, inode: any edit, e.g.
// `kubectl config use-context`, gives new keys), --context, --namespace and
// the sandbox name. Entries are JSON files of mode 0600 in a 0700 directory
// under the user's cache directory ($XDG_CACHE_HOME/arl, else ~/.cache/arl).
//
// This package uses the standard library only: it is linked into the lean
// kubectl-arl front, whose start-up time is the point.
package endpointcache

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// DisableEnv set to anything but "", "0" or "false" turns the cache off
// (as --no-cache does): no entry is read or written.
const DisableEnv = "ARL_NO_CACHE"

// version is bumped when Entry's meaning changes; other versions are misses.
const version = 1

// maxAge bounds how long an unused-for-writing entry is trusted at all; the
// sidecar's answer is what makes it correct, this only keeps the directory
// from filling with entries of long-gone sandboxes.
const maxAge = 7 * 24 * time.Hour

// Disabled reports whether ARL_NO_CACHE turns the cache off.
func Disabled() bool {
	switch strings.ToLower(os.Getenv(DisableEnv)) {
	case "", "0", "false":
		return false
	}
	return true
}

// Key names one sandbox as kubectl's flags select it.
type Key struct {
	// Kubeconfig is --kubeconfig ("" when not given).
	Kubeconfig string
	// Context and Namespace are --context and -n ("" when not given).
	Context, Namespace string
	Sandbox            string
}

// Entry is what the fast path needs to reach a sandbox's sidecar.
type Entry struct {
	Version    int       `json:"version"`
	Namespace  string    `json:"namespace"`
	Sandbox    string    `json:"sandbox"`
	SandboxUID string    `json:"sandboxUID"`
	Pod        string    `json:"pod"`
	IP         string    `json:"ip"`
	Port       int       `json:"port"`
	Token      string    `json:"token"`
	Stored     time.Time `json:"stored"`
}

// Address is the sidecar's "ip:port".
func (e *Entry) Address() string {
	if strings.Contains(e.IP, ":") {
		return "[" + e.IP + "]:" + strconv.Itoa(e.Port)
	}
	return e.IP + ":" + strconv.Itoa(e.Port)
}

// valid is false for entries a fast path must not use.
func (e *Entry) valid(k Key, now time.Time) bool {
	return e.Version == version && e.Sandbox == k.Sandbox && e.Token != "" && e.IP != "" &&
		e.Port > 0 && e.Port < 65536 && now.Sub(e.Stored) < maxAge &&
		(k.Namespace == "" || k.Namespace == e.Namespace)
}

// Dir is the cache directory: $XDG_CACHE_HOME/arl, else ~/.cache/arl.
func Dir() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("finding the user's cache directory: %w", err)
	}
	return filepath.Join(base, "arl"), nil
}

// kubeconfigPaths are the files client-go would read: --kubeconfig, else
// $KUBECONFIG's list, else ~/.kube/config.
func kubeconfigPaths(flag string) []string {
	if flag != "" {
		return []string{flag}
	}
	if env := os.Getenv("KUBECONFIG"); env != "" {
		var paths []string
		for _, p := range filepath.SplitList(env) {
			if p != "" {
				paths = append(paths, p)
			}
		}
		return paths
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return nil
	}
	return []string{filepath.Join(home, ".kube", "config")}
}

// file is the entry's path; ok is false when no kubeconfig file exists (an
// in-cluster or flag-only configuration: not cached).
func (k Key) file() (path string, ok bool) {
	dir, err := Dir()
	if err != nil {
		return "", false
	}
	h := sha256.New()
	found := false
	for _, p := range kubeconfigPaths(k.Kubeconfig) {
		abs, err := filepath.Abs(p)
		if err != nil {
			abs = p
		}
		fmt.Fprintf(h, "kubeconfig %q", abs)
		fi, err := os.Stat(abs)
		if err != nil {
			fmt.Fprintf(h, " missing\n")
			continue
		}
		found = true
		var ino uint64
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			ino = st.Ino
		}
		fmt.Fprintf(h, " %d %d %d\n", fi.Size(), fi.ModTime().UnixNano(), ino)
	}
	if !found {
		return "", false
	}
	fmt.Fprintf(h, "context %q\nnamespace %q\nsandbox %q\n", k.Context, k.Namespace, k.Sandbox)
	return filepath.Join(dir, "endpoint-"+hex.EncodeToString(h.Sum(nil))[:32]+".json"), true
}

// Load returns the entry for k, or nil. A corrupt, foreign or expired entry
// is removed and is a miss.
func Load(k Key) *Entry {
	if Disabled() {
		return nil
	}
	path, ok := k.file()
	if !ok {
		return nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var e Entry
	if err := json.Unmarshal(data, &e); err != nil || !e.valid(k, time.Now()) {
		_ = os.Remove(path)
		return nil
	}
	return &e
}

// Store writes the entry for k (mode 0600, atomically). Entries without a
// token are not stored (see the package comment).
func Store(k Key, e Entry) error {
	if Disabled() || e.Token == "" {
		return nil
	}
	path, ok := k.file()
	if !ok {
		return nil
	}
	e.Version, e.Sandbox, e.Stored = version, k.Sandbox, time.Now()
	data, err := json.Marshal(&e)
	if err != nil {
		return fmt.Errorf("encoding the endpoint cache entry: %w", err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating the endpoint cache directory: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil { // an older, wider directory too
		return fmt.Errorf("restricting the endpoint cache directory: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".endpoint-*") // CreateTemp makes it 0600
	if err != nil {
		return fmt.Errorf("writing the endpoint cache: %w", err)
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr, os.Chmod(tmp.Name(), 0o600)); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("writing the endpoint cache: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("writing the endpoint cache: %w", err)
	}
	return nil
}

// Drop removes the entry for k, if any.
func Drop(k Key) {
	if path, ok := k.file(); ok {
		_ = os.Remove(path)
	}
}
