package poolpod

import (
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

// claimTTL bounds how long a claim outlives the writes it covers: by then
// the cache shows the pod bound (or a sandbox's status naming it), or the
// pod deleted.
const claimTTL = 10 * time.Second

// PodClaims is the operator's in-memory ledger of idle pods that are being
// handed to a sandbox or deleted by their pool. The Sandbox controller
// claims a pod before it writes the sandbox's status and binds the pod (the
// two writes run in parallel), and the WarmPool controller claims a pod for
// deletion before it deletes it; each skips pods the other claimed. With
// leader election there is one ledger per cluster, so no pod is promised to
// two sandboxes, and no pool deletes a pod it was just promised. Both
// controllers of one operator must share one PodClaims.
type PodClaims struct {
	mu sync.Mutex
	m  map[types.UID]podClaim
}

type podClaim struct {
	sandbox types.UID // empty: claimed for deletion
	at      time.Time
}

// NewPodClaims returns an empty ledger.
func NewPodClaims() *PodClaims {
	return &PodClaims{m: map[types.UID]podClaim{}}
}

// ForSandbox claims pod for sandbox. It reports false when the pod is
// claimed for another sandbox or for deletion.
func (c *PodClaims) ForSandbox(pod, sandbox types.UID) bool {
	return c.claim(pod, sandbox)
}

// ForDeletion claims pod for its pool's deletion. It reports false when the
// pod is claimed for a sandbox.
func (c *PodClaims) ForDeletion(pod types.UID) bool {
	return c.claim(pod, "")
}

func (c *PodClaims) claim(pod, sandbox types.UID) bool {
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sweep(now)
	if held, ok := c.m[pod]; ok && held.sandbox != sandbox {
		return false
	}
	c.m[pod] = podClaim{sandbox: sandbox, at: now}
	return true
}

// ClaimedForSandbox reports whether pod is promised to a sandbox.
func (c *PodClaims) ClaimedForSandbox(pod types.UID) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	held, ok := c.m[pod]
	return ok && held.sandbox != "" && time.Since(held.at) < claimTTL
}

// Claimed reports whether pod is claimed at all (for a sandbox or deletion).
func (c *PodClaims) Claimed(pod types.UID) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	held, ok := c.m[pod]
	return ok && time.Since(held.at) < claimTTL
}

// Release drops a claim whose writes failed.
func (c *PodClaims) Release(pod types.UID) {
	c.mu.Lock()
	delete(c.m, pod)
	c.mu.Unlock()
}

// sweep drops expired claims; the caller holds mu.
func (c *PodClaims) sweep(now time.Time) {
	for uid, held := range c.m {
		if now.Sub(held.at) >= claimTTL {
			delete(c.m, uid)
		}
	}
}
