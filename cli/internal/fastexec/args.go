// Package fastexec is the lean front's fast path for `kubectl arl exec`: with
// a cached endpoint (package endpointcache) it runs the command over the
// sidecar's ExecuteStream with no Kubernetes client at all. It accepts only
// the command lines whose meaning it fully knows; any other one, a cache
// miss or a refused entry goes to the full CLI, which resolves the sandbox
// through the API server.
package fastexec

import (
	"os"
	"strings"
	"time"

	"github.com/arl-infra/arl/cli/internal/endpointcache"
)

// request is a parsed `exec SANDBOX [flags] -- COMMAND...` line.
type request struct {
	key     endpointcache.Key
	command []string
	env     map[string]string
	cwd     string
	timeout time.Duration
}

// flagValue splits "--name=value" or "--name value" (and "-n value",
// "-n=value", "-nvalue" for a shorthand); ok is false when arg is not
// that flag, missing when its value is absent.
func flagValue(args []string, i int, long, short string) (value string, next int, ok bool) {
	arg := args[i]
	names := []string{"--" + long}
	if short != "" {
		names = append(names, "-"+short)
	}
	for _, n := range names {
		switch {
		case arg == n:
			if i+1 >= len(args) {
				return "", i, false
			}
			return args[i+1], i + 2, true
		case strings.HasPrefix(arg, n+"="):
			return arg[len(n)+1:], i + 1, true
		case len(n) == 2 && strings.HasPrefix(arg, n) && len(arg) > 2:
			return arg[2:], i + 1, true
		}
	}
	return "", i, false
}

// parse accepts exactly the exec command lines the fast path can run the
// way the full CLI would: the global flags --kubeconfig, --context,
// -n/--namespace and --connect (auto or direct), and exec's --env/-e, --cwd
// and --timeout. ok is false for anything else (--stdin, --background,
// --help, other kubectl flags, a missing --, ...).
func parse(args []string) (req request, ok bool) {
	connect := "auto"
	var positional []string
	i := 0
	for i < len(args) {
		arg := args[i]
		if arg == "--" {
			req.command = args[i+1:]
			break
		}
		if !strings.HasPrefix(arg, "-") || arg == "-" {
			positional = append(positional, arg)
			i++
			continue
		}
		var v string
		var matched bool
		for _, f := range []struct {
			long, short string
			set         func(string) bool
		}{
			{"kubeconfig", "", func(s string) bool { req.key.Kubeconfig = s; return true }},
			{"context", "", func(s string) bool { req.key.Context = s; return true }},
			{"namespace", "n", func(s string) bool { req.key.Namespace = s; return true }},
			{"connect", "", func(s string) bool { connect = s; return true }},
			{"cwd", "", func(s string) bool { req.cwd = s; return true }},
			{"timeout", "", func(s string) bool {
				d, err := time.ParseDuration(s)
				req.timeout = d
				return err == nil
			}},
			{"env", "e", func(s string) bool {
				k, val, found := strings.Cut(s, "=")
				if !found || k == "" {
					return false
				}
				if req.env == nil {
					req.env = map[string]string{}
				}
				req.env[k] = val
				return true
			}},
		} {
			var next int
			if v, next, matched = flagValue(args, i, f.long, f.short); matched {
				if !f.set(v) {
					return req, false
				}
				i = next
				break
			}
		}
		if !matched {
			return req, false
		}
	}
	if len(positional) != 2 || positional[0] != "exec" || len(req.command) == 0 {
		return req, false
	}
	if env := os.Getenv("ARL_CONNECT"); env != "" && connect == "auto" {
		connect = env // as the full CLI: the variable overrides --connect=auto
	}
	if connect != "auto" && connect != "direct" {
		return req, false
	}
	req.key.Sandbox = positional[1]
	return req, true
}
