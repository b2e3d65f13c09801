package registry

import (
	"context"
	"io"
	"log"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

func serve(t *testing.T, dir string) (*httptest.Server, int) {
	t.Helper()
	h, replayed, err := New(dir, log.New(io.Discard, "", 0))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv, replayed
}

// An index pushed to the registry is still there, by tag and digest, after
// the registry restarts on the same directory.
func TestPushedIndexSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	first, _ := serve(t, dir)
	host := strings.TrimPrefix(first.URL, "http://")
	idx := randomIndex(t)
	ref, err := name.NewTag(host + "/arl/test:v1")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := remote.WriteIndex(ref, idx, remote.WithContext(ctx)); err != nil {
		t.Fatalf("push: %v", err)
	}
	want, _ := idx.Digest()
	first.Close()

	second, replayed := serve(t, dir)
	if replayed < 3 {
		t.Fatalf("replayed %d manifests, want the index and its 2 images", replayed)
	}
	ref2, _ := name.NewTag(strings.TrimPrefix(second.URL, "http://") + "/arl/test:v1")
	got, err := remote.Index(ref2, remote.WithContext(ctx))
	if err != nil {
		t.Fatalf("pull after restart: %v", err)
	}
	if d, _ := got.Digest(); d != want {
		t.Fatalf("digest after restart %s, want %s", d, want)
	}
	m, _ := got.IndexManifest()
	img, err := got.Image(m.Manifests[1].Digest)
	if err != nil {
		t.Fatal(err)
	}
	layers, err := img.Layers()
	if err != nil || len(layers) == 0 {
		t.Fatalf("layers: %v", err)
	}
	rc, err := layers[0].Compressed()
	if err != nil {
		t.Fatalf("blob after restart: %v", err)
	}
	defer rc.Close()
	if n, err := io.Copy(io.Discard, rc); err != nil || n == 0 {
		t.Fatalf("read blob after restart: %d bytes, %v", n, err)
	}
}

func randomIndex(t *testing.T) v1.ImageIndex {
	t.Helper()
	idx, err := random.Index(256, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	return mutate.IndexMediaType(idx, "application/vnd.oci.image.index.v1+json")
}
