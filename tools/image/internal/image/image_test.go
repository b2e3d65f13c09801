package image

import (
	"archive/tar"
	"bytes"
	"context"
	"debug/buildinfo"
	"debug/elf"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// repoRoot is the repository holding this module (tools/image).
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../../../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.work")); err != nil {
		t.Fatalf("repository root not found at %s: %v", root, err)
	}
	return root
}

func sidecarSpec(t *testing.T) Spec {
	s, ok := Lookup("arl-sidecar")
	if !ok {
		t.Fatal("no arl-sidecar spec")
	}
	return s
}

// The sidecar binary is copied into arbitrary executor images (alpine,
// distroless, python:slim): it must run without libc or a dynamic loader.
func TestSidecarBinaryIsStatic(t *testing.T) {
	for _, arch := range Platforms {
		t.Run(arch, func(t *testing.T) {
			bin := filepath.Join(t.TempDir(), "arl-sidecar")
			info := BuildInfo{Repo: repoRoot(t), Version: "v0.0.0-test"}
			if err := BuildBinary(context.Background(), info, sidecarSpec(t), arch, bin); err != nil {
				t.Fatal(err)
			}
			f, err := elf.Open(bin)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			for _, p := range f.Progs {
				if p.Type == elf.PT_INTERP {
					t.Fatal("the binary has an ELF interpreter (PT_INTERP): it needs a dynamic loader")
				}
			}
			if libs, err := f.ImportedLibraries(); err != nil || len(libs) > 0 {
				t.Fatalf("imported libraries %v (%v), want none", libs, err)
			}
			wantMachine := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[arch]
			if f.Machine != wantMachine {
				t.Fatalf("machine %v, want %v", f.Machine, wantMachine)
			}
			bi, err := buildinfo.ReadFile(bin)
			if err != nil {
				t.Fatal(err)
			}
			settings := map[string]string{}
			for _, s := range bi.Settings {
				settings[s.Key] = s.Value
			}
			if settings["CGO_ENABLED"] != "0" || settings["-trimpath"] != "true" || settings["GOOS"] != "linux" || settings["GOARCH"] != arch {
				t.Fatalf("build settings %v, want CGO_ENABLED=0 -trimpath=true GOOS=linux GOARCH=%s", settings, arch)
			}
			// -trimpath keeps -ldflags out of the build info: look for the stamped version itself.
			data, err := os.ReadFile(bin)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(data, []byte("v0.0.0-test")) {
				t.Fatal("the binary does not carry the version stamped with -X main.version")
			}
			if arch == runtime.GOARCH {
				if out, err := exec.Command(bin, "version").Output(); err != nil || strings.TrimSpace(string(out)) != "v0.0.0-test" {
					t.Fatalf("arl-sidecar version: %q, %v; want v0.0.0-test", out, err)
				}
			}
		})
	}
}

// Building twice from the same sources gives the same index digest, and
// the images are what the issue asks for: two platforms, a non-root user,
// the binary at /usr/local/bin, CA certificates, /tmp, OCI labels.
func TestBuildIsReproducible(t *testing.T) {
	info := BuildInfo{Repo: repoRoot(t), Version: "v0.0.0-test", Revision: "0123456789abcdef", Epoch: 1700000000}
	specs := []Spec{sidecarSpec(t)}
	first, err := Build(context.Background(), info, specs, Platforms, t.TempDir(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	second, err := Build(context.Background(), info, specs, Platforms, t.TempDir(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if first[0].Digest != second[0].Digest {
		t.Fatalf("two builds of the same sources differ: %s vs %s", first[0].Digest, second[0].Digest)
	}
	t.Logf("arl-sidecar index %s (both builds)", first[0].Digest)

	idx, tag, err := ReadLayout(first[0].Dir)
	if err != nil {
		t.Fatal(err)
	}
	if tag != info.Version {
		t.Errorf("layout tag %q, want %q", tag, info.Version)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if string(m.MediaType) != "application/vnd.oci.image.index.v1+json" {
		t.Errorf("index media type %s", m.MediaType)
	}
	var archs []string
	for _, d := range m.Manifests {
		archs = append(archs, d.Platform.OS+"/"+d.Platform.Architecture)
		img, err := idx.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		checkImage(t, img, d.Platform.Architecture, info)
	}
	if strings.Join(archs, ",") != "linux/amd64,linux/arm64" {
		t.Errorf("platforms %v, want linux/amd64 and linux/arm64", archs)
	}
}

func checkImage(t *testing.T, img v1.Image, arch string, info BuildInfo) {
	t.Helper()
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Architecture != arch || cfg.OS != "linux" {
		t.Errorf("config platform %s/%s, want linux/%s", cfg.OS, cfg.Architecture, arch)
	}
	if cfg.Config.User != "65532:65532" {
		t.Errorf("user %q, want the non-root 65532:65532", cfg.Config.User)
	}
	if got := strings.Join(cfg.Config.Entrypoint, " "); got != "/usr/local/bin/arl-sidecar" {
		t.Errorf("entrypoint %q", got)
	}
	labels := cfg.Config.Labels
	for k, want := range map[string]string{
		"org.opencontainers.image.title":    "arl-sidecar",
		"org.opencontainers.image.version":  info.Version,
		"org.opencontainers.image.revision": info.Revision,
		"org.opencontainers.image.source":   SourceURL,
		"org.opencontainers.image.created":  "2023-11-14T22:13:20Z",
	} {
		if labels[k] != want {
			t.Errorf("label %s = %q, want %q", k, labels[k], want)
		}
	}
	files := map[string]*tar.Header{}
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		tr := tar.NewReader(rc)
		for {
			h, err := tr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			files[strings.TrimSuffix(h.Name, "/")] = h
			if h.ModTime.Unix() != info.Epoch {
				t.Errorf("%s has mtime %s, want the fixed epoch", h.Name, h.ModTime)
			}
		}
		rc.Close()
	}
	for path, mode := range map[string]int64{
		"usr/local/bin/arl-sidecar":         0o755,
		"etc/ssl/certs/ca-certificates.crt": 0o644,
		"etc/passwd":                        0o644,
		"tmp":                               0o1777,
	} {
		h, ok := files[path]
		if !ok {
			t.Errorf("%s missing from the image", path)
			continue
		}
		if h.Mode != mode {
			t.Errorf("%s mode %o, want %o", path, h.Mode, mode)
		}
	}
	if h := files["etc/ssl/certs/ca-certificates.crt"]; h != nil && h.Size < 100_000 {
		t.Errorf("CA bundle is %d bytes: want Debian's full bundle", h.Size)
	}
}
