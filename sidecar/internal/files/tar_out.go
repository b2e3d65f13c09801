package files

import (
	"archive/tar"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
)

// TarStats counts what a tar transfer carried.
type TarStats struct {
	Files, Dirs, Links int
	Bytes              int64
}

// WriteTar writes the directory p as an uncompressed tar stream to w,
// names relative to p. Symlinks are stored as symlinks (never followed);
// FIFOs, sockets and devices are skipped.
func (s *Store) WriteTar(p string, w io.Writer) (TarStats, error) {
	loc, err := s.locate(p, aDir)
	if err != nil {
		return TarStats{}, err
	}
	sub, err := loc.root.OpenRoot(loc.rel)
	if err != nil {
		return TarStats{}, classify("tar", p, err)
	}
	defer sub.Close()
	tw := tar.NewWriter(w)
	var stats TarStats
	if err := tarDir(sub, ".", loc.path, tw, &stats); err != nil {
		return stats, err
	}
	if err := tw.Close(); err != nil {
		return stats, fmt.Errorf("tar %q: %w", p, err)
	}
	return stats, nil
}

func tarDir(root *os.Root, rel, shown string, tw *tar.Writer, stats *TarStats) error {
	dir, err := root.Open(rel)
	if err != nil {
		return classify("tar", shown, err)
	}
	names, err := dir.Readdirnames(-1)
	dir.Close()
	if err != nil {
		return classify("tar", shown, err)
	}
	sort.Strings(names)
	for _, name := range names {
		childRel, childShown := path.Join(rel, name), path.Join(shown, name)
		fi, err := root.Lstat(childRel)
		if err != nil {
			continue // removed meanwhile
		}
		switch {
		case fi.IsDir():
			hdr, err := tar.FileInfoHeader(fi, "")
			if err != nil {
				return fmt.Errorf("tar %q: %w", childShown, err)
			}
			hdr.Name = childRel + "/"
			if err := tw.WriteHeader(hdr); err != nil {
				return fmt.Errorf("tar %q: %w", childShown, err)
			}
			stats.Dirs++
			if err := tarDir(root, childRel, childShown, tw, stats); err != nil {
				return err
			}
		case fi.Mode()&os.ModeSymlink != 0:
			target, err := root.Readlink(childRel)
			if err != nil {
				continue
			}
			hdr, err := tar.FileInfoHeader(fi, target)
			if err != nil {
				return fmt.Errorf("tar %q: %w", childShown, err)
			}
			hdr.Name = childRel
			if err := tw.WriteHeader(hdr); err != nil {
				return fmt.Errorf("tar %q: %w", childShown, err)
			}
			stats.Links++
		case fi.Mode().IsRegular():
			if err := tarFile(root, childRel, childShown, tw, stats); err != nil {
				return err
			}
		}
	}
	return nil
}

func tarFile(root *os.Root, rel, shown string, tw *tar.Writer, stats *TarStats) error {
	f, info, err := openRegular(root, rel, shown)
	if err != nil {
		return nil // replaced by something else meanwhile: skip it
	}
	defer f.Close()
	hdr, err := tar.FileInfoHeader(info, "")
	if err != nil {
		return fmt.Errorf("tar %q: %w", shown, err)
	}
	hdr.Name = rel
	if err := tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("tar %q: %w", shown, err)
	}
	n, err := io.CopyN(tw, f, info.Size())
	stats.Bytes += n
	if err != nil {
		return fmt.Errorf("tar %q: the file changed while it was read: %w", shown, err)
	}
	stats.Files++
	return nil
}
