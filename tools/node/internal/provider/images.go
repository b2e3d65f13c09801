package provider

import (
	"fmt"
	"path"
	"path/filepath"
	"strings"
)

// ImageBinaries maps image names (no tag or digest) to local binaries.
type ImageBinaries map[string]string

// ParseImageBinary parses one --image-binary IMAGE=PATH flag value.
func ParseImageBinary(v string) (image, path string, err error) {
	image, path, ok := strings.Cut(v, "=")
	if !ok || image == "" || path == "" {
		return "", "", fmt.Errorf("--image-binary %q: want IMAGE=PATH", v)
	}
	return imageName(image), path, nil
}

// imageName strips the digest and tag from an image reference.
func imageName(ref string) string {
	ref, _, _ = strings.Cut(ref, "@")
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		ref = ref[:i]
	}
	return ref
}

// binaryFor is the binary of image: the one mapped to its exact name, else
// the one whose mapped image has the same last path element, so the ARL
// images pushed to any registry (127.0.0.1:5000/arl-operator@sha256:...,
// as the Helm chart names them) run the same local binaries.
func (m ImageBinaries) binaryFor(image string) string {
	n := imageName(image)
	if b := m[n]; b != "" {
		return b
	}
	base := path.Base(n)
	for mapped, b := range m {
		if path.Base(mapped) == base {
			return b
		}
	}
	return ""
}

// Argv resolves a container's command line on this node: for a mapped image
// (see binaryFor),
// an empty command or one naming the image's entrypoint
// (/usr/local/bin/<binary name>) runs the local binary; anything else runs
// command+args as given on the host. mapped reports whether the image maps.
func (m ImageBinaries) Argv(image string, command, args []string) (argv []string, binary string, err error) {
	binary = m.binaryFor(image)
	if binary != "" {
		entrypoint := "/usr/local/bin/" + filepath.Base(binary)
		switch {
		case len(command) == 0:
			return append([]string{binary}, args...), binary, nil
		case command[0] == entrypoint:
			argv = append([]string{binary}, command[1:]...)
			return append(argv, args...), binary, nil
		}
	}
	argv = append(append([]string{}, command...), args...)
	if len(command) == 0 && len(args) == 0 {
		return nil, binary, fmt.Errorf("image %q is not pulled on this node and its default entrypoint is unknown: set the container's command", image)
	}
	return argv, binary, nil
}
