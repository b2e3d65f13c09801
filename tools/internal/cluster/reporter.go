package cluster

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// reporter prints one progress line per step, prefixed with the time
// elapsed since the command started.
type reporter struct {
	mu    sync.Mutex
	out   io.Writer
	start time.Time
}

func newReporter(out io.Writer) *reporter { return &reporter{out: out, start: time.Now()} }

func (r *reporter) Printf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(r.out, "[%6.1fs] %s\n", time.Since(r.start).Seconds(), fmt.Sprintf(format, args...))
}

func (r *reporter) elapsed() time.Duration { return time.Since(r.start) }
