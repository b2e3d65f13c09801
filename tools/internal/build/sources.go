package build

import (
	"bufio"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// newestSource is the latest modification time among the Go sources,
// go.mod and go.sum files under dirs (relative to repo). Test files are
// ignored: they do not change a binary.
func newestSource(repo string, dirs []string) (time.Time, error) {
	var newest time.Time
	for _, dir := range dirs {
		root := filepath.Join(repo, dir)
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if name := d.Name(); path != root && (name == "testdata" || strings.HasPrefix(name, ".")) {
					return filepath.SkipDir
				}
				return nil
			}
			if !isBuildInput(d.Name()) {
				return nil
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			if info.ModTime().After(newest) {
				newest = info.ModTime()
			}
			return nil
		})
		if err != nil && !os.IsNotExist(err) {
			return time.Time{}, fmt.Errorf("scan sources in %s: %w", root, err)
		}
	}
	return newest, nil
}

func isBuildInput(name string) bool {
	return name == "go.mod" || name == "go.sum" ||
		(strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go"))
}

// inWorkspace reports whether module (relative to repo) is listed in the
// repository's go.work; modules outside it are built with GOWORK=off.
func inWorkspace(repo, module string) bool {
	f, err := os.Open(filepath.Join(repo, "go.work"))
	if err != nil {
		return false
	}
	defer f.Close()
	want := filepath.Clean(module)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		line = strings.TrimPrefix(line, "use ")
		line = strings.Trim(line, "()\t ")
		if line != "" && filepath.Clean(line) == want {
			return true
		}
	}
	return false
}
