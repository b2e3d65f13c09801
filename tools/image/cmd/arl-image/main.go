// Command arl-image builds, pushes and serves ARL's container images
// without Docker.
//
//	arl-image build [flags]                   OCI layouts of arl-operator and arl-sidecar (linux/amd64+arm64)
//	arl-image push --registry R --tag T       push the built layouts to R/<image>:T
//	arl-image push-tarball --tarball F --ref R push one image tarball as R
//	arl-image registry --addr A --dir D       serve an OCI registry on A with its data in D
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

const usage = `usage: arl-image COMMAND [flags]

commands:
  build     build the images as OCI layouts (default .build/images/<image>, digest in <image>.digest)
  push      push the built layouts to a registry (plain HTTP for loopback and private addresses)
  push-tarball  push one image tarball (arl-rootfs-image's) as --ref
  registry  serve an OCI registry (go-containerregistry pkg/registry, blobs on disk)

run "arl-image COMMAND -h" for a command's flags
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "build":
		err = runBuild(ctx, args)
	case "push":
		err = runPush(ctx, args)
	case "push-tarball":
		err = runPushTarball(ctx, args)
	case "registry":
		err = runRegistry(ctx, args)
	case "-h", "--help", "help":
		fmt.Print(usage)
		return
	default:
		err = fmt.Errorf("unknown command %q\n%s", cmd, usage)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "arl-image %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

func newFlags(name string) *flag.FlagSet {
	return flag.NewFlagSet("arl-image "+name, flag.ExitOnError)
}
