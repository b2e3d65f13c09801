package files

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"syscall"
)

// Errors a caller maps to its own codes.
var (
	// ErrInvalidPath: a malformed path, or one naming the wrong kind of
	// file (a directory for a file call, a FIFO, a device).
	ErrInvalidPath = errors.New("invalid path")
	// ErrInvalid: a malformed argument other than a path (a mode, a tar).
	ErrInvalid = errors.New("invalid argument")
	// ErrOutside: the path is not beneath an allowed root, or resolves
	// (through a symlink) outside it.
	ErrOutside = errors.New("outside the allowed roots")
	// ErrNotFound: the path (or one of its parents) does not exist.
	ErrNotFound = errors.New("file not found")
	// ErrExists: the target exists and the call must not replace it.
	ErrExists = errors.New("already exists")
	// ErrNotEmpty: a directory to remove without recursive is not empty.
	ErrNotEmpty = errors.New("directory not empty")
	// ErrTooLarge: a size or count limit of the store was reached.
	ErrTooLarge = errors.New("limit exceeded")
	// ErrPermission: the file system refused the sidecar's user (file
	// modes, ownership, a read-only mount).
	ErrPermission = errors.New("permission denied")
)

// escapeMessage is the text of os.Root's (unexported) escape error.
const escapeMessage = "path escapes from parent"

// classify wraps an os error of op on path with the store's sentinel.
func classify(op, path string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrInvalidPath), errors.Is(err, ErrInvalid), errors.Is(err, ErrOutside),
		errors.Is(err, ErrNotFound), errors.Is(err, ErrExists), errors.Is(err, ErrNotEmpty), errors.Is(err, ErrTooLarge), errors.Is(err, ErrPermission):
		return err
	case strings.Contains(err.Error(), escapeMessage), errors.Is(err, syscall.EXDEV):
		return fmt.Errorf("%s %q: it resolves through a symlink or \"..\" to a place %w (symlinks must be relative and stay inside)", op, path, ErrOutside)
	case errors.Is(err, syscall.ELOOP):
		return fmt.Errorf("%w: %s %q: too many levels of symlinks", ErrInvalidPath, op, path)
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s %q: %w", op, path, ErrNotFound)
	case errors.Is(err, syscall.ENOTDIR):
		return fmt.Errorf("%w: %s %q: a parent is not a directory", ErrInvalidPath, op, path)
	case errors.Is(err, syscall.EISDIR):
		return fmt.Errorf("%w: %s %q: it is a directory", ErrInvalidPath, op, path)
	case errors.Is(err, syscall.ENOTEMPTY):
		return fmt.Errorf("%s %q: %w (set recursive to remove it with its content)", op, path, ErrNotEmpty)
	case errors.Is(err, fs.ErrExist):
		return fmt.Errorf("%s %q: %w", op, path, ErrExists)
	case errors.Is(err, fs.ErrPermission), errors.Is(err, syscall.EROFS):
		return fmt.Errorf("%s %q: %w for the sidecar's user (uid %d): check the owner and mode of the file or its directory, or the pool's runAsUser", op, path, ErrPermission, os.Getuid())
	case errors.Is(err, syscall.ENAMETOOLONG):
		return fmt.Errorf("%w: %s %q: name too long", ErrInvalidPath, op, path)
	}
	return fmt.Errorf("%s %q: %w", op, path, err)
}

// checkMode refuses anything but permission bits: setuid, setgid and sticky
// are refused explicitly rather than masked.
func checkMode(mode uint32) error {
	if mode&^0o777 != 0 {
		return fmt.Errorf("%w: mode %#o: only permission bits (at most 0777) are allowed; setuid, setgid and sticky bits are refused", ErrInvalid, mode)
	}
	return nil
}
