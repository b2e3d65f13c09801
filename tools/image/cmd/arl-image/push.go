package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/arl-infra/arl/tools/image/internal/image"
)

func runPush(ctx context.Context, args []string) error {
	fs := newFlags("push")
	registry := fs.String("registry", "", "registry host:port[/path] (required)")
	tag := fs.String("tag", "", "tag to push (default: the tag the layouts were built with)")
	in := fs.String("in", ".build/images", "directory of the built OCI layouts")
	insecure := fs.Bool("insecure", false, "plain HTTP for any registry (loopback and private addresses use it anyway)")
	names := fs.String("images", "", "comma-separated images to push (default all)")
	_ = fs.Parse(args)
	if *registry == "" {
		return fmt.Errorf("--registry is required (e.g. make push REGISTRY=127.0.0.1:5000)")
	}
	reg := strings.TrimSuffix(*registry, "/")
	if err := image.Reachable(ctx, strings.SplitN(reg, "/", 2)[0]); err != nil {
		return err
	}
	list := image.Images
	if *names != "" {
		list = nil
		for _, n := range strings.Split(*names, ",") {
			s, ok := image.Lookup(n)
			if !ok {
				return fmt.Errorf("unknown image %q", n)
			}
			list = append(list, s)
		}
	}
	for _, spec := range list {
		idx, built, err := image.ReadLayout(filepath.Join(*in, spec.Name))
		if err != nil {
			return err
		}
		t := *tag
		if t == "" {
			t = built
		}
		ref, err := image.Push(ctx, reg, spec.Name, t, idx, *insecure)
		if err != nil {
			return err
		}
		fmt.Printf("pushed %s:%s\n  %s\n", reg+"/"+spec.Name, t, ref)
	}
	return nil
}

// runPushTarball pushes one image tarball (arl-rootfs-image's output) as a
// reference: the local cluster's real node pulls its executor images so.
func runPushTarball(ctx context.Context, args []string) error {
	fs := newFlags("push-tarball")
	file := fs.String("tarball", "", "image tarball holding one image (required)")
	ref := fs.String("ref", "", "host:port/repository:tag to push it as (required)")
	_ = fs.Parse(args)
	if *file == "" || *ref == "" {
		return fmt.Errorf("--tarball and --ref are required")
	}
	pushed, err := image.PushTarball(ctx, *file, *ref)
	if err != nil {
		return err
	}
	fmt.Printf("pushed %s\n  %s\n", *ref, pushed)
	return nil
}
