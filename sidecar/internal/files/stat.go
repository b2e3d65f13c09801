package files

import (
	"io/fs"
	"os"
	"path"
	"time"
)

// FileType is what kind of file an entry is.
type FileType int

const (
	TypeFile FileType = iota + 1
	TypeDir
	TypeSymlink
	TypeOther // FIFO, socket, device
)

// Info describes one file without following a final symlink.
type Info struct {
	Name          string
	Path          string
	Type          FileType
	Size          int64
	Mode          fs.FileMode // permission bits
	ModTime       time.Time
	SymlinkTarget string
}

// Stat describes path (a final symlink is described, not followed).
func (s *Store) Stat(p string) (Info, error) {
	loc, err := s.locate(p, aDir)
	if err != nil {
		return Info{}, err
	}
	return statAt(loc.root, loc.rel, loc.path)
}

func statAt(root *os.Root, rel, shown string) (Info, error) {
	fi, err := root.Lstat(rel)
	if err != nil {
		return Info{}, classify("stat", shown, err)
	}
	info := Info{
		Name:    path.Base(shown),
		Path:    shown,
		Size:    fi.Size(),
		Mode:    fi.Mode().Perm(),
		ModTime: fi.ModTime(),
	}
	switch m := fi.Mode(); {
	case m.IsRegular():
		info.Type = TypeFile
	case m.IsDir():
		info.Type = TypeDir
	case m&fs.ModeSymlink != 0:
		info.Type = TypeSymlink
		info.SymlinkTarget, _ = root.Readlink(rel)
	default:
		info.Type = TypeOther
	}
	return info, nil
}
