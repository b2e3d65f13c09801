package main

import (
	"context"
	"math"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/arl-infra/arl/operator/internal/certs"
)

// certificateWait bounds how long the operator retries reaching the API
// server for its webhook certificate before it gives up (and is restarted).
const certificateWait = time.Minute

// certificateBackoff spaces the tries: 100 ms doubling to 5 s, then every 5 s
// until certificateWait. (wait.ExponentialBackoffWithContext would stop at
// the cap, after about 6 tries and 13 s: a Backoff's Cap zeroes its Steps.)
var certificateBackoff = wait.Backoff{Duration: 100 * time.Millisecond, Factor: 2, Jitter: 0.1, Steps: math.MaxInt32, Cap: 5 * time.Second}

// ensureCertificate runs certs.Ensure, retrying with backoff while the API
// server is unreachable, as it may be for a moment when a cluster starts.
func ensureCertificate(ctx context.Context, c client.Client, o certs.Options) (*certs.Bundle, error) {
	var bundle *certs.Bundle
	var lastErr error
	ctx, cancel := context.WithTimeout(ctx, certificateWait)
	defer cancel()
	err := certificateBackoff.DelayFunc().Until(ctx, true, false, func(ctx context.Context) (bool, error) {
		bundle, lastErr = certs.Ensure(ctx, c, o)
		if lastErr != nil {
			ctrl.Log.WithName("setup").Info("webhook certificate not ready; retrying", "error", lastErr.Error())
			return false, nil
		}
		return true, nil
	})
	if err != nil && lastErr != nil {
		return nil, lastErr
	}
	return bundle, err
}
