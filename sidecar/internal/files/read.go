package files

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// ReadResult is what Read found.
type ReadResult struct {
	Content   []byte
	Truncated bool
	Size      int64
	Mode      fs.FileMode
}

// Read reads up to maxBytes of path (0 or more than the store's cap means
// the store's cap).
func (s *Store) Read(path string, maxBytes int64) (ReadResult, error) {
	if maxBytes <= 0 || maxBytes > s.maxRead {
		maxBytes = s.maxRead
	}
	f, info, err := s.OpenRead(path)
	if err != nil {
		return ReadResult{}, err
	}
	defer f.Close()
	content, err := io.ReadAll(io.LimitReader(f, maxBytes))
	if err != nil {
		return ReadResult{}, classify("read", path, err)
	}
	return ReadResult{
		Content:   content,
		Truncated: info.Size() > int64(len(content)),
		Size:      info.Size(),
		Mode:      info.Mode().Perm(),
	}, nil
}

// OpenRead opens a regular file for reading. The open never blocks (a
// FIFO or a device is opened non-blocking, then refused after fstat).
func (s *Store) OpenRead(path string) (*os.File, fs.FileInfo, error) {
	loc, err := s.locate(path, aFile)
	if err != nil {
		return nil, nil, err
	}
	return openRegular(loc.root, loc.rel, path)
}

// openRegular opens rel beneath root for reading and checks, on the open
// file, that it is a regular file.
func openRegular(root *os.Root, rel, path string) (*os.File, fs.FileInfo, error) {
	f, err := root.OpenFile(rel, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, nil, classify("open", path, err)
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, classify("stat", path, err)
	}
	if err := requireRegular(path, info); err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, info, nil
}

func requireRegular(path string, info fs.FileInfo) error {
	if info.Mode().IsRegular() {
		return nil
	}
	return fmt.Errorf("%w: %q is %s, not a regular file", ErrInvalidPath, path, describeType(info.Mode()))
}

// describeType names a file's type for error messages.
func describeType(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeSymlink != 0:
		return "a symlink"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m.IsRegular():
		return "a regular file"
	}
	return "an irregular file"
}
