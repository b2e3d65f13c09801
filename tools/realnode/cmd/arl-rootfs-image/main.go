// Command arl-rootfs-image turns a directory into a single-layer OCI image
// and writes it as an image tarball that `ctr images import` (and
// go-containerregistry's crane) read. The local cluster's real node gets
// its pause image, its libc-free busybox image and the Debian python
// stand-in this way: there is no Docker and no public registry here.
//
//	arl-rootfs-image --rootfs DIR --ref arl.local/pause:1 --entrypoint /pause --out pause.tar
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
)

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func main() {
	var opts Options
	var entrypoint, cmd, env, refs stringList
	flag.StringVar(&opts.RootFS, "rootfs", "", "directory holding the image's file system")
	flag.Var(&refs, "ref", "image reference to tag the image with (repeatable)")
	flag.Var(&entrypoint, "entrypoint", "entrypoint argument (repeatable, in order)")
	flag.Var(&cmd, "cmd", "cmd argument (repeatable, in order)")
	flag.Var(&env, "env", "KEY=VALUE environment entry (repeatable)")
	flag.StringVar(&opts.WorkingDir, "workdir", "", "working directory")
	flag.StringVar(&opts.Out, "out", "", "image tarball to write")
	flag.Parse()
	opts.Refs, opts.Entrypoint, opts.Cmd, opts.Env = refs, entrypoint, cmd, env
	if err := Write(opts); err != nil {
		fmt.Fprintf(os.Stderr, "arl-rootfs-image: %v\n", err)
		os.Exit(1)
	}
}
