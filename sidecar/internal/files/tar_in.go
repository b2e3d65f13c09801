package files

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
)

// MaxTarEntries caps the entries of one extracted tar.
const MaxTarEntries = 100000

// ExtractTar unpacks a tar stream (gzip-compressed or not) into the
// directory p, creating it. Entries must be relative and stay inside p;
// files are written atomically; directories, symlinks and hard links are
// made beneath p; FIFOs and devices, setuid/setgid/sticky modes and more
// than maxBytes of file content are refused.
func (s *Store) ExtractTar(p string, r io.Reader, maxBytes int64) (TarStats, error) {
	loc, err := s.locate(p, aDir)
	if err != nil {
		return TarStats{}, err
	}
	if loc.rel != "." {
		if err := loc.root.MkdirAll(loc.rel, DefaultDirMode); err != nil {
			return TarStats{}, classify("make directory", p, err)
		}
	}
	sub, err := loc.root.OpenRoot(loc.rel)
	if err != nil {
		return TarStats{}, classify("extract into", p, err)
	}
	defer sub.Close()
	br := bufio.NewReader(r)
	var src io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return TarStats{}, fmt.Errorf("%w: gzip: %v", ErrInvalid, err)
		}
		defer gz.Close()
		src = gz
	}
	tr := tar.NewReader(src)
	var stats TarStats
	for entries := 0; ; entries++ {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return stats, nil
		}
		if err != nil {
			return stats, fmt.Errorf("%w: reading the tar: %v", ErrInvalid, err)
		}
		if entries >= MaxTarEntries {
			return stats, fmt.Errorf("extract into %q: more than %d entries: %w", p, MaxTarEntries, ErrTooLarge)
		}
		if err := extractEntry(sub, loc.path, hdr, tr, maxBytes, &stats); err != nil {
			return stats, err
		}
	}
}

func extractEntry(root *os.Root, dir string, hdr *tar.Header, tr io.Reader, maxBytes int64, stats *TarStats) error {
	rel, err := entryName(hdr.Name)
	if err != nil {
		return err
	}
	shown := path.Join(dir, rel)
	mode := uint32(hdr.Mode) & 0o7777
	switch hdr.Typeflag {
	case tar.TypeDir:
		if err := checkMode(mode); err != nil {
			return fmt.Errorf("tar entry %q: %w", hdr.Name, err)
		}
		if rel == "." {
			return nil
		}
		if err := root.MkdirAll(rel, DefaultDirMode); err != nil {
			return classify("make directory", shown, err)
		}
		_ = root.Chmod(rel, os.FileMode(mode)|0o700)
		stats.Dirs++
	case tar.TypeReg:
		if stats.Bytes+hdr.Size > maxBytes {
			return fmt.Errorf("extract %q: the tar holds more than %d bytes of files: %w", shown, maxBytes, ErrTooLarge)
		}
		if err := checkMode(mode); err != nil {
			return fmt.Errorf("tar entry %q: %w", hdr.Name, err)
		}
		f, err := createAtomic(root, rel, shown, mode)
		if err != nil {
			return err
		}
		n, err := io.CopyN(f, tr, hdr.Size)
		stats.Bytes += n
		if err != nil {
			f.Abort()
			return fmt.Errorf("%w: tar entry %q is cut short: %v", ErrInvalid, hdr.Name, err)
		}
		if err := f.Commit(); err != nil {
			return err
		}
		stats.Files++
	case tar.TypeSymlink, tar.TypeLink:
		if err := makeLink(root, rel, shown, hdr); err != nil {
			return err
		}
		stats.Links++
	default:
		return fmt.Errorf("%w: tar entry %q has type %q: only files, directories and links are extracted", ErrInvalid, hdr.Name, string(hdr.Typeflag))
	}
	return nil
}

// makeLink replaces rel with a symlink or a hard link. A symlink may point
// anywhere (the sandbox's own code can make any symlink), but the store
// never follows one out of its roots; a hard link's target must be an
// entry beneath the extraction directory.
func makeLink(root *os.Root, rel, shown string, hdr *tar.Header) error {
	if dir := path.Dir(rel); dir != "." {
		if err := mkdirParents(root, dir, shown); err != nil {
			return err
		}
	}
	if info, err := root.Lstat(rel); err == nil {
		if info.IsDir() {
			return fmt.Errorf("%w: tar entry %q would replace a directory with a link", ErrInvalid, hdr.Name)
		}
		if err := root.Remove(rel); err != nil {
			return classify("replace", shown, err)
		}
	}
	if hdr.Typeflag == tar.TypeSymlink {
		return classify("symlink", shown, root.Symlink(hdr.Linkname, rel))
	}
	target, err := entryName(hdr.Linkname)
	if err != nil {
		return err
	}
	return classify("link", shown, root.Link(target, rel))
}

// entryName checks a tar entry name and returns it cleaned and relative.
func entryName(name string) (string, error) {
	trimmed := strings.TrimPrefix(name, "./")
	switch {
	case name == "":
		return "", fmt.Errorf("%w: a tar entry has an empty name", ErrInvalid)
	case strings.HasPrefix(name, "/"):
		return "", fmt.Errorf("%w: tar entry %q is absolute", ErrInvalidPath, name)
	case strings.ContainsRune(name, 0):
		return "", fmt.Errorf("%w: tar entry %q contains a NUL byte", ErrInvalidPath, name)
	}
	for _, part := range strings.Split(trimmed, "/") {
		if part == ".." {
			return "", fmt.Errorf("%w: tar entry %q must not contain \"..\"", ErrInvalidPath, name)
		}
	}
	return path.Clean(trimmed), nil
}
