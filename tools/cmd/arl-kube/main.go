// Command arl-kube is one multi-call binary holding the local cluster's
// control plane and real node: etcd, kube-apiserver, kube-controller-manager,
// kube-scheduler, kubelet, kube-proxy and a matching kubectl.
//
// It dispatches on the name it was invoked as (a symlink named etcd,
// kube-apiserver, ...), or on its first argument when invoked as arl-kube:
//
//	arl-kube kube-apiserver --etcd-servers=...
//	kubectl get nodes   # kubectl -> arl-kube
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

const selfName = "arl-kube"

func main() {
	name, args := commandFor(os.Args)
	run, ok := commands[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "%s: unknown command %q\n\n%s", selfName, name, usage())
		os.Exit(2)
	}
	os.Exit(run(args))
}

// commandFor picks the component from argv[0]'s base name, or from argv[1]
// when called as arl-kube itself. The returned args keep the component's
// name as args[0], as each component's own main expects.
func commandFor(argv []string) (string, []string) {
	name := strings.TrimSuffix(filepath.Base(argv[0]), ".exe")
	if _, ok := commands[name]; ok {
		return name, argv
	}
	if len(argv) < 2 || argv[1] == "-h" || argv[1] == "--help" || argv[1] == "help" {
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
