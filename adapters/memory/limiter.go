package memory

import (
	"context"
	"sync"
	"time"

	"github.com/lenticular/lenticular/modules/ratelimit"
)

var _ ratelimit.Limiter = (*Limiter)(nil)

// sweepEvery is how often Allow drops idle keys. Between sweeps the map holds
// at most the keys seen in the last sweepEvery plus the longest Period in use.
const sweepEvery = time.Minute

// Limiter is the in-process ratelimit.Limiter for embedded mode and tests.
//
// It is GCRA with burst = Rate, the algorithm and arithmetic of
// github.com/go-redis/redis_rate (used by adapters/redisstore), so a client
// sees the same Allowed, Remaining, RetryAfter and ResetAfter whichever
// adapter is wired in. It is hand-written rather than built on
// golang.org/x/time/rate because that package needs a *rate.Limiter per key
// (more state, and no way to tell an idle one from a busy one without asking
// it) and does not report when the bucket is full again, which the
// RateLimit-Reset header needs.
//
// The whole state of a key is one time, its theoretical arrival time (TAT):
// the instant at which the bucket will be full again. A key whose TAT has
// passed is indistinguishable from an unknown key, so dropping it changes no
// answer; Allow sweeps such keys out now and then, which keeps memory bounded
// without a background goroutine to start and stop.
//
// One mutex guards the map. Each call does a few comparisons under it, which
// is far below the cost of the HTTP request being limited; instances that
// need more use Redis, which they must anyway to share limits.
type Limiter struct {
	mu         sync.Mutex
	tat        map[string]time.Time
	now        func() time.Time // replaced in tests
	sweepEvery time.Duration
	nextSweep  time.Time
}

// NewLimiter returns an empty in-process limiter.
func NewLimiter() *Limiter {
	return &Limiter{
		tat:        make(map[string]time.Time),
		now:        time.Now,
		sweepEvery: sweepEvery,
		nextSweep:  time.Now().Add(sweepEvery),
	}
}

// Allow counts one event for key against limit. The context is only checked,
// never waited on, so that a done context fails here as it does on Redis.
func (l *Limiter) Allow(ctx context.Context, key string, limit ratelimit.Limit) (ratelimit.Result, error) {
	if err := limit.Validate(); err != nil {
		return ratelimit.Result{}, err
	}
	if err := ctx.Err(); err != nil {
		return ratelimit.Result{}, err
	}
	// One event is due every interval; the bucket holds Rate of them, i.e.
	// a TAT at most Period ahead of now. Period rather than Rate*interval,
	// as redis_rate does, so a Period/Rate that is not a whole number of
	// nanoseconds still admits a full burst.
	interval := max(limit.Period/time.Duration(limit.Rate), 1)

	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now() // read under the lock so TATs are set in time order
	l.sweep(now)

	tat, ok := l.tat[key]
	if !ok || tat.Before(now) {
		tat = now
	}
	newTAT := tat.Add(interval)
	// How far now is past the earliest time this event may happen.
	diff := now.Sub(newTAT.Add(-limit.Period))
	if diff < 0 {
		// Refused events are not counted: the TAT stays where it is.
		return ratelimit.Result{
			Allowed:    false,
			Limit:      limit.Rate,
			Remaining:  0,
			RetryAfter: -diff,
			ResetAfter: tat.Sub(now),
		}, nil
	}
	l.tat[key] = newTAT
	return ratelimit.Result{
		Allowed:    true,
		Limit:      limit.Rate,
		Remaining:  int(diff / interval),
		RetryAfter: 0,
		ResetAfter: newTAT.Sub(now),
	}, nil
}

// Reset forgets key.
func (l *Limiter) Reset(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.tat, key)
	return nil
}

// sweep drops the keys whose bucket is full again, at most once per
// sweepEvery. The caller holds l.mu.
func (l *Limiter) sweep(now time.Time) {
	if now.Before(l.nextSweep) {
		return
	}
	l.nextSweep = now.Add(l.sweepEvery)
	for key, tat := range l.tat {
		if !tat.After(now) {
			delete(l.tat, key)
		}
	}
}
