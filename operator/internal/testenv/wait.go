package testenv

import (
	"testing"
	"time"
)

// Eventually polls cond every 10ms until it returns true, and fails the test
// with what and the last error after timeout.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var lastErr error
	for {
		ok, err := cond()
		if ok {
			return
		}
		lastErr = err
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s (last error: %v)", timeout, what, lastErr)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Consistently fails the test if cond turns false within d.
func Consistently(t testing.TB, d time.Duration, what string, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		ok, err := cond()
		if !ok {
			t.Fatalf("%s stopped holding (error: %v)", what, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
