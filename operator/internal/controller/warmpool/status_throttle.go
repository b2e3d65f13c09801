package warmpool

import (
	"sync"
	"time"
)

// defaultStatusWriteInterval is the shortest time between two status writes
// of one pool. Every allocation moves a pool's counts three or four times
// (taken, replacement created, replacement Ready, taken pod gone); writing
// each would cost the API server more than the allocation itself.
const defaultStatusWriteInterval = time.Second

// statusThrottle spaces out the status writes of each pool: the first
// change after a quiet interval is written at once, later ones wait for the
// interval to end and are written together.
type statusThrottle struct {
	mu       sync.Mutex
	interval time.Duration
	now      func() time.Time
	last     map[string]time.Time
}

func newStatusThrottle(interval time.Duration) *statusThrottle {
	return &statusThrottle{interval: interval, now: time.Now, last: map[string]time.Time{}}
}

// wait is how long pool must wait before its next status write; 0 means now.
func (t *statusThrottle) wait(pool string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	last, ok := t.last[pool]
	if !ok {
		return 0
	}
	return max(t.interval-t.now().Sub(last), 0)
}

// wrote records a status write of pool.
func (t *statusThrottle) wrote(pool string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.last[pool] = t.now()
}

// forget drops a deleted pool.
func (t *statusThrottle) forget(pool string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.last, pool)
}
