package image

import (
	"context"
	"io"
	"log"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/arl-infra/arl/tools/image/internal/registry"
)

// An image tarball pushed under a docker.io-style path is served by its
// tag and by the digest PushTarball returns.
func TestPushTarballToLoopbackRegistry(t *testing.T) {
	h, _, err := registry.New(t.TempDir(), log.New(io.Discard, "", 0))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	img, err := random.Image(256, 2)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "python.tar")
	local, _ := name.NewTag("docker.io/library/python:3.9-slim")
	if err := tarball.WriteToFile(path, local, img); err != nil {
		t.Fatal(err)
	}
	ref, err := PushTarball(context.Background(), path, host+"/library/python:3.9-slim")
	if err != nil {
		t.Fatal(err)
	}
	want, _ := img.Digest()
	if ref != host+"/library/python@"+want.String() {
		t.Fatalf("pushed ref %s, want the repository with digest %s", ref, want)
	}
	tag, _ := name.NewTag(host + "/library/python:3.9-slim")
	desc, err := remote.Head(tag)
	if err != nil {
		t.Fatalf("HEAD %s: %v", tag, err)
	}
	if desc.Digest != want {
		t.Errorf("tag digest %s, want %s", desc.Digest, want)
	}
}

// A missing tarball is an error naming the file, before any network call.
func TestPushTarballMissingFile(t *testing.T) {
	_, err := PushTarball(context.Background(), filepath.Join(t.TempDir(), "nope.tar"), "127.0.0.1:1/x:1")
	if err == nil || !strings.Contains(err.Error(), "nope.tar") {
		t.Fatalf("err %v, want one naming the missing tarball", err)
	}
}
