package files

import "fmt"

// File is one file of a WriteAll.
type File struct {
	Path    string
	Content []byte
	Mode    uint32 // permission bits; 0 means DefaultMode
}

// WriteAll writes every file or none: each is first written in full to a
// temp file beside its target, and only when all are written are they
// renamed into place, in order (a later file of the same path wins). A
// failure before that leaves no file changed (parent directories made on
// the way stay). A rename failing midway, which needs the directory to
// change under the call, leaves the files before it written, as the error
// says. It returns the cleaned paths.
func (s *Store) WriteAll(files []File) ([]string, error) {
	staged := make([]*AtomicFile, 0, len(files))
	dropFrom := func(i int) {
		for _, a := range staged[i:] {
			a.Abort()
		}
	}
	for _, f := range files {
		a, err := s.Create(f.Path, f.Mode)
		if err != nil {
			dropFrom(0)
			return nil, err
		}
		staged = append(staged, a)
		if _, err := a.Write(f.Content); err != nil {
			dropFrom(0)
			return nil, classify("write", f.Path, err)
		}
	}
	for _, a := range staged {
		if err := a.seal(); err != nil {
			dropFrom(0)
			return nil, err
		}
	}
	paths := make([]string, len(staged))
	for i, a := range staged {
		if err := a.place(); err != nil {
			dropFrom(i + 1)
			if i == 0 {
				return nil, err
			}
			return nil, fmt.Errorf("%w (the %d file(s) before it in the call were written)", err, i)
		}
		paths[i] = a.Path()
	}
	return paths, nil
}
