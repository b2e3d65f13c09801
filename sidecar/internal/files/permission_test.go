package files

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

// permissionChildEnv names the directory a re-executed test writes into
// as an unprivileged user.
const permissionChildEnv = "ARL_FILES_PERMISSION_DIR"

// A write the file system refuses (a directory the sidecar's user may not
// write) is ErrPermission, not an error without a class. As root, the
// write runs in a child process as nobody (65534), because root's writes
// are never refused by modes.
func TestWriteRefusedByTheFileSystemIsErrPermission(t *testing.T) {
	if dir := os.Getenv(permissionChildEnv); dir != "" {
		s, err := NewStore([]string{dir}, 100)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		_, err = s.Write(filepath.Join(dir, "locked", "f"), []byte("x"), 0o644)
		if !errors.Is(err, ErrPermission) {
			t.Fatalf("write into a read-only directory: %v, want ErrPermission", err)
		}
		return
	}
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "locked"), 0o555); err != nil {
		t.Fatal(err)
	}
	if os.Getuid() != 0 {
		t.Setenv(permissionChildEnv, root)
		TestWriteRefusedByTheFileSystemIsErrPermission(t)
		return
	}
	for dir := root; dir != "/"; dir = filepath.Dir(dir) { // nobody must reach root
		info, err := os.Stat(dir)
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm()&0o005 != 0o005 {
			if err := os.Chmod(dir, info.Mode().Perm()|0o005); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The test binary's own directory is private to root: run a copy.
	binary := filepath.Join(t.TempDir(), "files.test")
	data, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(binary, data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Dir(binary), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, "-test.run=^TestWriteRefusedByTheFileSystemIsErrPermission$", "-test.count=1")
	cmd.Env = append(os.Environ(), permissionChildEnv+"="+root)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("as nobody: %v\n%s", err, out)
	}
}
