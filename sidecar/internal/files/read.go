package files

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
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
	clean, err := s.resolve(path, true)
	if err != nil {
		return ReadResult{}, err
	}
	if maxBytes <= 0 || maxBytes > s.maxRead {
		maxBytes = s.maxRead
	}
	f, err := os.Open(clean)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return ReadResult{}, fmt.Errorf("read %q: %w", path, ErrNotFound)
		}
		return ReadResult{}, fmt.Errorf("read %q: %w", path, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return ReadResult{}, fmt.Errorf("stat %q: %w", path, err)
	}
	if info.IsDir() {
		return ReadResult{}, fmt.Errorf("%w: %q is a directory", ErrInvalidPath, path)
	}
	content, err := io.ReadAll(io.LimitReader(f, maxBytes))
	if err != nil {
		return ReadResult{}, fmt.Errorf("read %q: %w", path, err)
	}
	return ReadResult{
		Content:   content,
		Truncated: info.Size() > int64(len(content)),
		Size:      info.Size(),
		Mode:      info.Mode().Perm(),
	}, nil
}
