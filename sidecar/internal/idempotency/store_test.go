package idempotency

import (
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"connectrpc.com/connect"

	sidecarv1 "github.com/arl-infra/arl/proto/gen/arl/sidecar/v1"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newTestStore(opts Options) (*Store, *clock) {
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	s := New(opts)
	s.now = c.now
	return s, c
}

func run(s *Store, id string, size int) *entry {
	e, first := s.claim(id, sha256.Sum256([]byte(id)))
	if first {
		s.finish(e, connect.NewResponse(&sidecarv1.ExecuteResponse{Stdout: id}), nil, size)
	}
	return e
}

func TestResultsExpireButKeysStayKnown(t *testing.T) {
	s, c := newTestStore(Options{Retention: time.Minute})
	e := run(s, "a", 10)
	c.t = c.t.Add(59 * time.Second)
	if got, first := s.claim("a", e.fingerprint); first || got.evicted || got.resp == nil {
		t.Fatalf("result dropped before its retention: first=%v evicted=%v", first, got.evicted)
	}
	c.t = c.t.Add(time.Second)
	got, first := s.claim("a", e.fingerprint)
	if first || !got.evicted || got.resp != nil || s.resultBytes != 0 {
		t.Fatalf("after retention: first=%v evicted=%v bytes=%d", first, got.evicted, s.resultBytes)
	}
}

func TestByteBudgetDropsOldestResultsFirst(t *testing.T) {
	s, _ := newTestStore(Options{MaxResultBytes: 100})
	for i := range 5 {
		run(s, fmt.Sprint(i), 30)
	}
	for i := range 5 {
		e, _ := s.claim(fmt.Sprint(i), [32]byte{})
		if want := i < 2; e.evicted != want {
			t.Errorf("entry %d evicted=%v, want %v", i, e.evicted, want)
		}
	}
	if s.resultBytes != 90 {
		t.Fatalf("resultBytes = %d, want 90", s.resultBytes)
	}
}

func TestKeyLimitForgetsOldestFinishedButNeverRunningCalls(t *testing.T) {
	s, _ := newTestStore(Options{MaxKeys: 3})
	running, first := s.claim("running", [32]byte{})
	if !first {
		t.Fatal("new key not first")
	}
	for i := range 5 {
		run(s, fmt.Sprint(i), 1)
	}
	if s.Len() != 3 {
		t.Fatalf("keys = %d, want 3", s.Len())
	}
	if e, first := s.claim("running", [32]byte{}); first || e != running {
		t.Fatal("a running call was forgotten")
	}
	if _, first := s.claim("0", [32]byte{}); !first {
		t.Fatal("the oldest finished key is still known")
	}
}
