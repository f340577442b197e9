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
	// refilled is open while a background claim is on its way and closed
	// when it has landed; nil when none is.
	refilled chan struct{}
	// refillErr is why the last background claim failed (Redis
	// unreachable): the requests that waited for it return it at once, so
	// the caller falls back, instead of each paying the same timeout again.
	refillErr error
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
	for le.left == 0 && le.refilled != nil {
		// The next batch is on its way: wait for it rather than claim
		// another, which would strand one of them.
		ch := le.refilled
		le.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			le.mu.Lock()
			return ratelimit.Result{}, ctx.Err()
		}
		le.mu.Lock()
		now = time.Now()
		if le.left == 0 && le.refillErr != nil {
			return ratelimit.Result{}, le.refillErr
		}
	}
	if le.left > 0 && le.limit == limit && now.Before(le.expires) {
		le.left--
		// Claim the next batch in the background, unless the bucket is
		// nearly empty: there every event is counted in Redis so that
		// none is stranded in a lease nobody spends.
		if le.left < batch/2 && le.refilled == nil && le.shared >= 4*batch {
			le.refilled = make(chan struct{})
			go l.refill(key, le, limit, batch)
		}
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
	le.limit = limit
	le.grant(res, batch-1, now)
	res.Remaining = le.shared + le.left
	return res, nil
}

// grant adds n claimed events to the lease. A lease lasts as long as the
// bucket takes to refill one batch, and at least minLease: high limits would
// otherwise send every request of a busy key to wait on a claim every few
// milliseconds.
func (le *lease) grant(res ratelimit.Result, n int, now time.Time) {
	le.left += n
	le.shared = res.Remaining
	le.reset = now.Add(res.ResetAfter)
	batch := le.limit.Rate / batchDivisor
	le.expires = now.Add(max(le.limit.Period*time.Duration(batch)/time.Duration(le.limit.Rate), minLease))
}

// refill claims the next batch while the current one is still being spent.
// A refusal (less than a batch left) or an error changes nothing: the
// request that finds the lease empty claims synchronously, one at a time
// near the limit.
func (l *LeasingLimiter) refill(key string, le *lease, limit ratelimit.Limit, batch int) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	res, err := l.shared.allowN(ctx, key, limit, batch)
	le.mu.Lock()
	defer le.mu.Unlock()
	close(le.refilled)
	le.refilled = nil
	le.refillErr = err
	if err != nil || !res.Allowed || le.limit != limit {
		return
	}
	now := time.Now()
	if !now.Before(le.expires) {
		le.left = 0 // what was left expired meanwhile
	}
	le.grant(res, batch, now)
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
