package fastexec

import (
	"context"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/arl-infra/arl/cli/internal/endpointcache"
	"github.com/arl-infra/arl/cli/internal/execstream"
)

// dialTimeout bounds the connect to a cached pod IP: a live pod on a
// routable network answers in well under a millisecond (as the full CLI's
// probe, transport.ProbeTimeout).
const dialTimeout = 300 * time.Millisecond

// Run runs an exec command line from the endpoint cache. handled is false
// when the full CLI must run it instead: a command line the fast path does
// not take, no cache entry, or an entry the sidecar did not accept (nothing
// ran; the entry is dropped, so the full CLI resolves afresh and stores a
// new one). When handled, code is the process's exit code. onSent (if not
// nil) runs once the command's request is written to the sidecar.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer, onSent func()) (code int, handled bool) {
	req, ok := parse(args)
	if !ok {
		return 0, false
	}
	entry := endpointcache.Load(req.key)
	if entry == nil {
		return 0, false
	}
	conn, err := (&net.Dialer{Timeout: dialTimeout}).DialContext(ctx, "tcp", entry.Address())
	if err != nil {
		endpointcache.Drop(req.key) // the pod is gone or unreachable from here
		return 0, false
	}
	res := execstream.Call(ctx, conn, entry.Address(), entry.Token, &execstream.Request{
		Command: req.command, WorkingDir: req.cwd, Env: req.env, TimeoutSeconds: seconds(req.timeout),
	}, onSent, func(o execstream.Output) error {
		w := stdout
		if o.Stream == execstream.StreamStderr {
			w = stderr
		}
		_, err := w.Write(o.Data)
		return err
	})
	if res.Err == nil {
		return execstream.EndCode(stderr, *res.End), true
	}
	if res.Events == 0 && ctx.Err() == nil {
		// The sidecar said nothing about this command: the entry is suspect.
		endpointcache.Drop(req.key)
		if notRun(res.Err) {
			return 0, false
		}
	}
	fmt.Fprintln(stderr, "error:", execstream.Describe(req.key.Sandbox, execstream.CodeOf(res.Err), res.Err))
	return 1, true
}

// notRun is true for the answers that prove the command did not start, so
// the full CLI may run it: a refused token (another pod has the IP, or the
// pod's token changed) or a server without the sidecar's API at that
// address. Other errors (a reset connection, a timeout) might have come
// after the command started, and running it twice is worse than one error.
func notRun(err error) bool {
	switch execstream.CodeOf(err) {
	case execstream.CodeUnauthenticated, execstream.CodeUnimplemented:
		return true
	}
	return false
}

// seconds rounds a timeout up to whole seconds (the sidecar's unit), as
// the full CLI's exec does.
func seconds(d time.Duration) int32 {
	if d <= 0 {
		return 0
	}
	s := d / time.Second
	if d%time.Second != 0 {
		s++
	}
	return int32(s)
}
