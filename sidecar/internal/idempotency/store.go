// Package idempotency makes unary calls that carry an idempotency key run at
// most once: a Connect interceptor remembers each key's call and answers a
// repeat with the first call's result instead of running it again.
//
// The operator sends every Task step with a key derived from the task's UID,
// attempt and step index, so a step is never run twice when the operator
// re-sends it: after a status-write conflict, a stale cache, or a restart
// between sending the step and recording it. The store lives in the
// sidecar's memory; a restarted sidecar (a restarted pod) starts empty.
package idempotency

import (
	"container/list"
	"crypto/sha256"
	"sync"
	"time"

	"connectrpc.com/connect"
)

// MaxKeyBytes caps one idempotency key; with Options.MaxKeys it bounds the
// bytes of keys kept (100k keys of at most 256 bytes: 25.6 MB).
const MaxKeyBytes = 256

// Options bound what the store keeps.
type Options struct {
	// Retention is how long the result of a finished call is kept.
	Retention time.Duration
	// MaxResultBytes bounds the results kept (their messages' encoded
	// sizes); the oldest are dropped first.
	MaxResultBytes int
	// MaxKeys bounds the keys remembered, with or without their result;
	// past it the oldest finished keys are forgotten.
	MaxKeys int
}

// DefaultOptions: ten minutes, 64 MiB of results, 100k keys (about 10 MB).
func DefaultOptions() Options {
	return Options{Retention: 10 * time.Minute, MaxResultBytes: 64 << 20, MaxKeys: 100_000}
}

// Store remembers keyed calls.
type Store struct {
	opts Options
	now  func() time.Time

	mu      sync.Mutex
	entries map[string]*entry
	// results holds the finished entries that keep their result, oldest
	// first; tombstones those whose result was dropped, oldest first.
	results     list.List
	tombstones  list.List
	resultBytes int
}

type entry struct {
	id          string
	fingerprint [sha256.Size]byte
	done        chan struct{}

	// Set once done is closed.
	resp       connect.AnyResponse
	err        error
	size       int
	finishedAt time.Time
	// evicted: the result was dropped; the key is still known.
	evicted bool
}

// New returns an empty store; zero fields of opts take DefaultOptions'.
func New(opts Options) *Store {
	def := DefaultOptions()
	if opts.Retention <= 0 {
		opts.Retention = def.Retention
	}
	if opts.MaxResultBytes <= 0 {
		opts.MaxResultBytes = def.MaxResultBytes
	}
	if opts.MaxKeys <= 0 {
		opts.MaxKeys = def.MaxKeys
	}
	return &Store{opts: opts, now: time.Now, entries: map[string]*entry{}}
}

// claim returns the entry of id, creating it when new (first is true: the
// caller must run the call and finish the entry).
func (s *Store) claim(id string, fp [sha256.Size]byte) (e *entry, first bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.evictLocked()
	if e, ok := s.entries[id]; ok {
		return e, false
	}
	e = &entry{id: id, fingerprint: fp, done: make(chan struct{})}
	s.entries[id] = e
	return e, true
}

// finish records the first call's result and wakes the callers waiting.
func (s *Store) finish(e *entry, resp connect.AnyResponse, err error, size int) {
	s.mu.Lock()
	e.resp, e.err, e.size = resp, err, size
	e.finishedAt = s.now()
	s.results.PushBack(e)
	s.resultBytes += size
	s.evictLocked()
	s.mu.Unlock()
	close(e.done)
}

// evictLocked drops results past their retention or the byte budget
// (oldest first), then forgets the oldest finished keys past MaxKeys.
// Calls still running are never dropped.
func (s *Store) evictLocked() {
	now := s.now()
	for el := s.results.Front(); el != nil; el = s.results.Front() {
		e := el.Value.(*entry)
		if now.Sub(e.finishedAt) < s.opts.Retention && s.resultBytes <= s.opts.MaxResultBytes {
			break
		}
		s.results.Remove(el)
		s.resultBytes -= e.size
		e.resp, e.err, e.size, e.evicted = nil, nil, 0, true
		s.tombstones.PushBack(e)
	}
	for len(s.entries) > s.opts.MaxKeys {
		l := &s.tombstones
		if l.Len() == 0 {
			l = &s.results
		}
		el := l.Front()
		if el == nil {
			return // every key belongs to a call still running
		}
		e := el.Value.(*entry)
		l.Remove(el)
		if !e.evicted {
			s.resultBytes -= e.size
		}
		delete(s.entries, e.id)
	}
}

// read returns a finished entry's result, or evicted when it was dropped.
func (s *Store) read(e *entry) (resp connect.AnyResponse, evicted bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return e.resp, e.evicted, e.err
}

// Len reports the keys remembered (for tests and metrics).
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.entries)
}
