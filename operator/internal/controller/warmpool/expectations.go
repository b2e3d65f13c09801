package warmpool

import (
	"sync"
	"time"
)

// expectationTimeout bounds how long a pool waits for the cache to show pods
// it created or deleted; past it the pool trusts the cache again (a lost
// watch event must not stall it forever).
const expectationTimeout = 30 * time.Second

// expectations counts, per pool, the pod creations and deletions the cache
// has not shown yet. While any is outstanding the pool does not scale, so a
// lagging cache never makes it create or delete twice.
type expectations struct {
	mu    sync.Mutex
	now   func() time.Time
	pools map[string]*expectation
}

type expectation struct {
	adds, dels int
	setAt      time.Time
}

func newExpectations() *expectations {
	return &expectations{now: time.Now, pools: map[string]*expectation{}}
}

// Expect records that adds pods will be created and dels deleted for pool.
func (e *expectations) Expect(pool string, adds, dels int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	exp := e.pools[pool]
	if exp == nil {
		exp = &expectation{}
		e.pools[pool] = exp
	}
	exp.adds += adds
	exp.dels += dels
	exp.setAt = e.now()
}

// CreationObserved lowers the pending creations of pool by one.
func (e *expectations) CreationObserved(pool string) { e.lower(pool, 1, 0) }

// DeletionObserved lowers the pending deletions of pool by one.
func (e *expectations) DeletionObserved(pool string) { e.lower(pool, 0, 1) }

func (e *expectations) lower(pool string, adds, dels int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	exp := e.pools[pool]
	if exp == nil {
		return
	}
	exp.adds = max(exp.adds-adds, 0)
	exp.dels = max(exp.dels-dels, 0)
}

// Satisfied reports whether the cache has caught up with every write for
// pool (or the wait timed out).
func (e *expectations) Satisfied(pool string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	exp := e.pools[pool]
	if exp == nil || (exp.adds == 0 && exp.dels == 0) {
		return true
	}
	if e.now().Sub(exp.setAt) > expectationTimeout {
		delete(e.pools, pool)
		return true
	}
	return false
}

// Forget drops every expectation of pool (it was deleted).
func (e *expectations) Forget(pool string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.pools, pool)
}
