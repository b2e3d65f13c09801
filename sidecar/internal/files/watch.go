package files

import (
	"context"
	"fmt"
	"os"
	"path"
	"strings"

	"github.com/fsnotify/fsnotify"
)

// MaxWatchDirs caps the directories one recursive Watch follows.
const MaxWatchDirs = 1024

// Op is what happened to a watched entry.
type Op int

const (
	OpCreate Op = iota + 1
	OpWrite
	OpRemove
	OpRename
	OpChmod
)

// Event is one change beneath a watched directory.
type Event struct {
	Path string
	Op   Op
}

// Watch reports changes in directory p (and, with recursive, in its
// subdirectories, including ones made later, up to MaxWatchDirs) to emit
// until ctx ends, emit fails or p itself is removed. Each directory is
// opened through the root and watched through its open descriptor
// (/proc/self/fd/N), so a symlink swapped in never redirects a watch
// outside the root. ready is called once the watch is in place. Events name paths as the caller sees them; a
// directory renamed after it was watched keeps its old name in events.
func (s *Store) Watch(ctx context.Context, p string, recursive bool, emit func(Event) error, ready func() error) error {
	loc, err := s.locate(p, aDir)
	if err != nil {
		return err
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watch %q: %w", p, err)
	}
	dw := &dirWatches{root: loc.root, w: w, byKey: map[string]watchedDir{}}
	defer dw.close()
	if err := dw.add(loc.rel, loc.path, recursive); err != nil {
		return err
	}
	topKey := dw.keyOf(loc.rel)
	if err := ready(); err != nil {
		return err
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-w.Errors:
			return fmt.Errorf("watch %q: %w", p, err)
		case ev := <-w.Events:
			key, child := splitKey(ev.Name)
			dir, ok := dw.byKey[key]
			if !ok {
				continue
			}
			if child == "" { // the watched directory itself
				if key == topKey && (ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename)) {
					return emit(Event{Path: dir.shown, Op: opOf(ev.Op)})
				}
				continue // its parent reports it
			}
			rel, shown := path.Join(dir.rel, child), path.Join(dir.shown, child)
			if err := emit(Event{Path: shown, Op: opOf(ev.Op)}); err != nil {
				return err
			}
			if recursive && ev.Has(fsnotify.Create) {
				if info, err := loc.root.Lstat(rel); err == nil && info.IsDir() {
					_ = dw.add(rel, shown, true) // best effort: it may be gone already
				}
			}
		}
	}
}

type watchedDir struct {
	f     *os.File // kept open: the watch key names its descriptor
	rel   string
	shown string
}

type dirWatches struct {
	root  *os.Root
	w     *fsnotify.Watcher
	byKey map[string]watchedDir
	byRel map[string]string
}

func (d *dirWatches) keyOf(rel string) string { return d.byRel[rel] }

// add watches directory rel and, with recursive, its subdirectories.
func (d *dirWatches) add(rel, shown string, recursive bool) error {
	if d.byRel == nil {
		d.byRel = map[string]string{}
	}
	if len(d.byKey) >= MaxWatchDirs {
		return fmt.Errorf("watch %q: more than %d directories: %w", shown, MaxWatchDirs, ErrTooLarge)
	}
	f, err := d.root.Open(rel)
	if err != nil {
		return classify("watch", shown, err)
	}
	info, err := f.Stat()
	if err != nil || !info.IsDir() {
		f.Close()
		if err != nil {
			return classify("watch", shown, err)
		}
		return fmt.Errorf("%w: %q is %s, not a directory", ErrInvalidPath, shown, describeType(info.Mode()))
	}
	key := fmt.Sprintf("/proc/self/fd/%d", f.Fd())
	if err := d.w.Add(key); err != nil {
		f.Close()
		return fmt.Errorf("watch %q: %w (is /proc mounted?)", shown, err)
	}
	d.byKey[key] = watchedDir{f: f, rel: rel, shown: shown}
	d.byRel[rel] = key
	if !recursive {
		return nil
	}
	names, err := f.Readdirnames(-1)
	if err != nil {
		return classify("watch", shown, err)
	}
	for _, name := range names {
		childRel := path.Join(rel, name)
		if info, err := d.root.Lstat(childRel); err == nil && info.IsDir() {
			if err := d.add(childRel, path.Join(shown, name), true); err != nil {
				return err
			}
		}
	}
	return nil
}

func (d *dirWatches) close() {
	_ = d.w.Close()
	for _, dir := range d.byKey {
		dir.f.Close()
	}
}

// splitKey splits "/proc/self/fd/N/child" into the key and "child".
func splitKey(name string) (string, string) {
	const prefix = "/proc/self/fd/"
	rest := strings.TrimPrefix(name, prefix)
	fd, child, _ := strings.Cut(rest, "/")
	return prefix + fd, child
}

func opOf(op fsnotify.Op) Op {
	switch {
	case op.Has(fsnotify.Create):
		return OpCreate
	case op.Has(fsnotify.Remove):
		return OpRemove
	case op.Has(fsnotify.Rename):
		return OpRename
	case op.Has(fsnotify.Write):
		return OpWrite
	}
	return OpChmod
}
