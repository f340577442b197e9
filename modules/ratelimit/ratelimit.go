// Package ratelimit is the port every rate limit in the product goes through:
// per IP, per user, on the auth routes and on failed logins per account. The
// port is tiny so that the in-process limiter (embedded mode, tests) and the
// Redis one (several instances behaving as one) can be swapped freely; their
// shared behaviour is pinned by the contract suite in limitertest.
//
// The algorithm is GCRA (a token bucket without a background refill):
// a Limit of N per Period admits a burst of N events and then one more event
// every Period/N. Unlike a fixed window, it never admits 2N events across a
// window boundary, and it can always say how long a refused caller must wait.
package ratelimit

import (
	"context"
	"errors"
	"time"
)

// ErrInvalidLimit is returned by Allow for a Limit that admits nothing
// (Rate or Period not positive): a configuration mistake, not a refusal.
var ErrInvalidLimit = errors.New("invalid rate limit: rate and period must be positive")

// Limit is N events per Period.
type Limit struct {
	Rate   int
	Period time.Duration
}

// Validate reports ErrInvalidLimit when the limit cannot be enforced. Both
// adapters call it, so a zero Limit fails loudly instead of dividing by zero
// or refusing every request.
func (l Limit) Validate() error {
	if l.Rate <= 0 || l.Period <= 0 {
		return ErrInvalidLimit
	}
	return nil
}

// Result is the answer for one event. It carries what the HTTP layer needs
// for the RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset and
// Retry-After headers, so no caller has to know the algorithm.
type Result struct {
	Allowed    bool
	Limit      int           // the Rate
	Remaining  int           // events still allowed now
	RetryAfter time.Duration // when !Allowed: wait before retrying; 0 when allowed
	ResetAfter time.Duration // time until the bucket is full again
}

// Limiter counts events per key. Keys are opaque to the limiter; callers
// namespace them (for example "ip:203.0.113.7" or "login:<account id>") so
// that different limits never share a bucket by accident.
type Limiter interface {
	// Allow counts one event for key against limit. A refused event is not
	// counted, so a client that keeps retrying is admitted as soon as
	// RetryAfter has passed. An error means the limiter could not answer
	// (store down, context done); the caller decides whether to fail open
	// or closed.
	Allow(ctx context.Context, key string, limit Limit) (Result, error)

	// Reset forgets everything counted for key, so its next event sees a
	// full bucket; used to clear the failed-login counter of an account
	// after a successful login. Resetting an unknown key is not an error.
	Reset(ctx context.Context, key string) error
}
