package image

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// CACertsDir holds Debian's ca-certificates bundle, one PEM file per CA.
// The images get their concatenation (sorted by name), not the generated
// /etc/ssl/certs/ca-certificates.crt, whose content depends on local
// configuration.
const CACertsDir = "/usr/share/ca-certificates/mozilla"

// CABundle concatenates the PEM files of dir in name order.
func CABundle(dir string) ([]byte, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.crt"))
	if err != nil {
		return nil, fmt.Errorf("list CA certificates: %w", err)
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("no CA certificates in %s: install Debian's ca-certificates (apt-get install ca-certificates)", dir)
	}
	sort.Strings(paths)
	var buf bytes.Buffer
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("read CA certificate: %w", err)
		}
		buf.Write(bytes.TrimSpace(data))
		buf.WriteByte('\n')
	}
	return buf.Bytes(), nil
}

// entry is one file or directory of a layer.
type entry struct {
	path string // without a leading slash
	mode int64  // permission bits (and sticky bit)
	dir  bool
	data []byte
}

// BaseLayer is what every image shares: /etc/passwd and /etc/group with
// root and the non-root user, the CA bundle at /etc/ssl/certs, /tmp
// (world-writable, sticky) and the user's home.
func BaseLayer(caBundle []byte, epoch int64) (v1.Layer, error) {
	passwd := fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\n%[1]s:x:%[2]d:%[2]d:%[1]s:/home/%[1]s:/sbin/nologin\n", UserName, UserID)
	group := fmt.Sprintf("root:x:0:\n%[1]s:x:%[2]d:\n", UserName, UserID)
	return layer(epoch, []entry{
		{path: "etc", mode: 0o755, dir: true},
		{path: "etc/group", mode: 0o644, data: []byte(group)},
		{path: "etc/passwd", mode: 0o644, data: []byte(passwd)},
		{path: "etc/ssl", mode: 0o755, dir: true},
		{path: "etc/ssl/certs", mode: 0o755, dir: true},
		{path: "etc/ssl/certs/ca-certificates.crt", mode: 0o644, data: caBundle},
		{path: "home", mode: 0o755, dir: true},
		{path: "home/" + UserName, mode: 0o700, dir: true},
		{path: "tmp", mode: 0o1777, dir: true},
	})
}

// BinaryLayer holds one binary at /usr/local/bin/<name>.
func BinaryLayer(name string, binary []byte, epoch int64) (v1.Layer, error) {
	return layer(epoch, []entry{
		{path: "usr", mode: 0o755, dir: true},
		{path: "usr/local", mode: 0o755, dir: true},
		{path: "usr/local/bin", mode: 0o755, dir: true},
		{path: "usr/local/bin/" + name, mode: 0o755, data: binary},
	})
}

// layer writes entries as an uncompressed tar with fixed owners and times;
// go-containerregistry gzips it (without a header timestamp) into an OCI
// layer.
func layer(epoch int64, entries []entry) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	mtime := time.Unix(epoch, 0).UTC()
	for _, e := range entries {
		h := &tar.Header{Name: e.path, Mode: e.mode, ModTime: mtime, Format: tar.FormatPAX, Uname: "root", Gname: "root"}
		if e.home() {
			h.Uid, h.Gid, h.Uname, h.Gname = UserID, UserID, UserName, UserName
		}
		if e.dir {
			h.Typeflag, h.Name = tar.TypeDir, e.path+"/"
		} else {
			h.Typeflag, h.Size = tar.TypeReg, int64(len(e.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("tar %s: %w", e.path, err)
		}
		if _, err := tw.Write(e.data); err != nil {
			return nil, fmt.Errorf("tar %s: %w", e.path, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("tar: %w", err)
	}
	data := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}, tarball.WithMediaType(types.OCILayer))
}

func (e entry) home() bool { return e.path == "home/"+UserName }
