package process

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

var (
	errNotFound      = errors.New("command not found")
	errNotExecutable = errors.New("permission denied")
)

// lookPath finds name like a shell does, in the given PATH value (the
// request's env may change PATH, so os/exec's LookPath, which reads the
// sidecar's own PATH, does not fit). Names with a slash are taken relative
// to dir.
func lookPath(name, pathEnv, dir string) (string, error) {
	if strings.Contains(name, "/") {
		path := name
		if !filepath.IsAbs(path) {
			path = filepath.Join(dir, path)
		}
		return path, checkExecutable(path)
	}
	sawNotExecutable := false
	for _, d := range filepath.SplitList(pathEnv) {
		if d == "" {
			d = "."
		}
		if !filepath.IsAbs(d) {
			d = filepath.Join(dir, d)
		}
		path := d + "/" + name
		err := checkExecutable(path)
		if err == nil {
			return path, nil
		}
		if errors.Is(err, errNotExecutable) {
			sawNotExecutable = true
		}
	}
	if sawNotExecutable {
		return "", errNotExecutable
	}
	return "", errNotFound
}

func checkExecutable(path string) error {
	info, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return errNotFound
		}
		return errNotExecutable
	}
	if info.IsDir() || info.Mode().Perm()&0o111 == 0 {
		return errNotExecutable
	}
	return nil
}
