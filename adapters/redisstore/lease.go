package redisstore

import (
	"context"
	"sync"
	"time"

	"github.com/lenticular/lenticular/modules/ratelimit"
)

var _ ratelimit.Limiter = (*LeasingLimiter)(nil)

// LeasingLimiter is the shared limiter for limits that every request pays
// (RATE_LIMIT_USER, RATE_LIMIT_ANON): rather than one Redis round trip per
// request, an instance claims a small batch of events from the shared
// bucket at once (GCRA in Redis, as Limiter) and admits requests against
// it locally until the batch is spent or its lease ends.
//
// Every admitted event was claimed from the shared bucket first, so all
// instances together never admit more than the limit. The cost is the
// other way: events claimed and not used before the lease ends are lost,
// at most one batch (1/50 of the limit) per key, instance and lease. Near
// the limit, when a whole batch is not available, events are claimed one
// at a time, so the last ones are counted exactly. Limits too small for
// batches of two or more go straight to Limiter.
type LeasingLimiter struct {
	shared *Limiter
	mu     sync.Mutex
	leases map[string]*lease
	swept  time.Time
}

type lease struct {
	mu      sync.Mutex
	limit   ratelimit.Limit
	left    int       // events claimed and not yet admitted
	shared  int       // the bucket's Remaining when the batch was claimed
	reset   time.Time // when the bucket is full again, as of the claim
	expires time.Time
}

// batchDivisor sets the batch to 1/50 of the limit: 24 of RATE_LIMIT_USER's
// default 1200/m, 6 of RATE_LIMIT_ANON's 300/m.
const batchDivisor = 50

const minLease = time.Second

// NewLeasingLimiter returns a leasing limiter over shared.
func NewLeasingLimiter(shared *Limiter) *LeasingLimiter {
	return &LeasingLimiter{shared: shared, leases: map[string]*lease{}}
}

func (l *LeasingLimiter) Allow(ctx context.Context, key string, limit ratelimit.Limit) (ratelimit.Result, error) {
	batch := limit.Rate / batchDivisor
	if batch < 2 || limit.Validate() != nil {
		return l.shared.Allow(ctx, key, limit)
	}
	now := time.Now()
	le := l.lease(key, now)
	le.mu.Lock()
	defer le.mu.Unlock()
	if le.left > 0 && le.limit == limit && now.Before(le.expires) {
		le.left--
		return ratelimit.Result{Allowed: true, Limit: limit.Rate, Remaining: le.shared + le.left, ResetAfter: max(le.reset.Sub(now), 0)}, nil
	}
	le.left = 0
	res, err := l.shared.allowN(ctx, key, limit, batch)
	if err != nil {
		return res, err
	}
	if !res.Allowed {
		// Not a whole batch left: count this event alone.
		return l.shared.Allow(ctx, key, limit)
	}
	// A lease lasts as long as the bucket takes to refill one batch, and
	// at least minLease: high limits would otherwise send every request of
	// a busy key to wait on a claim every few milliseconds.
	le.limit, le.left, le.shared = limit, batch-1, res.Remaining
	le.reset = now.Add(res.ResetAfter)
	le.expires = now.Add(max(limit.Period*time.Duration(batch)/time.Duration(limit.Rate), minLease))
	res.Remaining = le.shared + le.left
	return res, nil
}

// lease returns key's lease, creating it; expired leases are dropped now
// and then so idle keys do not pile up.
func (l *LeasingLimiter) lease(key string, now time.Time) *lease {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > time.Minute {
		for k, le := range l.leases {
			if le.mu.TryLock() {
				if now.After(le.expires) {
					delete(l.leases, k)
				}
				le.mu.Unlock()
			}
		}
		l.swept = now
	}
	le := l.leases[key]
	if le == nil {
		le = &lease{}
		l.leases[key] = le
	}
	return le
}

// Reset drops this instance's lease and the shared bucket. Other
// instances' leases run out on their own (at most one batch each).
func (l *LeasingLimiter) Reset(ctx context.Context, key string) error {
	l.mu.Lock()
	delete(l.leases, key)
	l.mu.Unlock()
	return l.shared.Reset(ctx, key)
}
