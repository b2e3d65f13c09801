package image

import (
	"context"
	"io"
	"log"
	"net"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/arl-infra/arl/tools/image/internal/registry"
)

// A registry nobody listens on fails the push in seconds, saying so.
func TestPushToUnreachableRegistryFailsFast(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	idx, err := random.Index(64, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = Push(context.Background(), addr+"/arl", "arl-sidecar", "v1", idx, false)
	took := time.Since(start)
	if err == nil {
		t.Fatal("push to a closed port succeeded")
	}
	if !strings.Contains(err.Error(), "registry "+addr+" is unreachable") {
		t.Errorf("error %q does not say the registry is unreachable", err)
	}
	if took > 2*DialTimeout {
		t.Errorf("failing took %s, want seconds", took)
	}
	t.Logf("failed in %s: %v", took.Round(time.Millisecond), err)
}

// Push over plain HTTP to a loopback registry (the local cluster's kind),
// under a path, and read the index back by the returned digest.
func TestPushToLoopbackRegistry(t *testing.T) {
	h, _, err := registry.New(t.TempDir(), log.New(io.Discard, "", 0))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	idx, err := random.Index(64, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := Push(context.Background(), host+"/team/arl", "arl-sidecar", "v1", idx, false)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := idx.Digest()
	if ref != host+"/team/arl/arl-sidecar@"+want.String() {
		t.Fatalf("pushed ref %s", ref)
	}
	for _, r := range []string{ref, host + "/team/arl/arl-sidecar:v1"} {
		parsed, err := name.ParseReference(r)
		if err != nil {
			t.Fatal(err)
		}
		desc, err := remote.Head(parsed)
		if err != nil {
			t.Fatalf("HEAD %s: %v", r, err)
		}
		if desc.Digest != want {
			t.Errorf("%s digest %s, want %s", r, desc.Digest, want)
		}
	}
}
