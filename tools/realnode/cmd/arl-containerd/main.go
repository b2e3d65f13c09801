// Command arl-containerd is containerd v2, its runc shim and ctr in one
// multi-call binary, built from the pinned github.com/containerd/containerd/v2
// module for the local cluster's real node (arl-local up --node=kubelet).
//
// It dispatches on the name it was invoked as (symlinks named containerd,
// containerd-shim-runc-v2 and ctr), or on its first argument:
//
//	arl-containerd containerd --config=...
//	ctr -n k8s.io containers ls   # ctr -> arl-containerd
//
// The shim starts its long-lived copy by re-executing os.Executable(), the
// resolved binary itself, with flags only ("-namespace ns -id ..."): a call
// whose first argument is a flag is the shim.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	containerd "github.com/containerd/containerd/v2/cmd/containerd/command"
	"github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2/manager"
	ctr "github.com/containerd/containerd/v2/cmd/ctr/app"
	"github.com/containerd/containerd/v2/pkg/shim"

	_ "github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2/task/plugin" // the shim's task service
	_ "github.com/containerd/containerd/v2/cmd/containerd/builtins"                 // containerd's plugins, CRI included
)

const (
	selfName = "arl-containerd"
	shimName = "containerd-shim-runc-v2"
)

var commands = map[string]func(args []string) int{
	"containerd": func(args []string) int { return runApp("containerd", containerd.App().Run, args) },
	"ctr":        func(args []string) int { return runApp("ctr", ctr.New().Run, args) },
	shimName: func(args []string) int {
		os.Args = args
		shim.RunShim(context.Background(), manager.NewShimManager("io.containerd.runc.v2"))
		return 0
	},
}

func runApp(name string, run func(context.Context, []string) error, args []string) int {
	os.Args = args
	if err := run(context.Background(), args); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		return 1
	}
	return 0
}

func main() {
	name, args := commandFor(os.Args)
	run, ok := commands[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "%s: unknown command %q\n\n%s", selfName, name, usage())
		os.Exit(2)
	}
	os.Exit(run(args))
}

// commandFor picks the component from argv[0]'s base name, else the shim
// when the first argument is a flag (its re-exec of itself), else argv[1].
// The returned args keep the component's name as args[0].
func commandFor(argv []string) (string, []string) {
	name := filepath.Base(argv[0])
	if _, ok := commands[name]; ok {
		return name, argv
	}
	if len(argv) > 1 && strings.HasPrefix(argv[1], "-") && argv[1] != "-h" && argv[1] != "--help" {
		return shimName, append([]string{shimName}, argv[1:]...)
	}
	if len(argv) < 2 || argv[1] == "help" || argv[1] == "-h" || argv[1] == "--help" {
		fmt.Print(usage())
		os.Exit(0)
	}
	return argv[1], argv[1:]
}

func usage() string {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	return fmt.Sprintf("usage: %s COMMAND [ARGS...]  (or symlink COMMAND -> %s)\ncommands: %s\n",
		selfName, selfName, strings.Join(names, ", "))
}
