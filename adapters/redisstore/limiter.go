package redisstore

import (
	"context"
	"fmt"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"github.com/lenticular/lenticular/modules/ratelimit"
)

var _ ratelimit.Limiter = (*Limiter)(nil)

// limiterPrefix namespaces rate-limit keys. redis_rate adds its own "rate:"
// in front, so a key k is stored as "rate:lt:rl:k".
const limiterPrefix = "lt:rl:"

// Limiter is the ratelimit.Limiter shared by every instance: GCRA run as one
// Lua script in Redis (github.com/go-redis/redis_rate), so concurrent
// requests on any instance are counted atomically against one bucket, and
// the clock is Redis's, not each instance's. Timeouts are those of the
// client (its read and write timeouts) and of ctx.
type Limiter struct {
	rl *redis_rate.Limiter
}

// NewLimiter returns a limiter that keeps its buckets in rdb.
func NewLimiter(rdb redis.UniversalClient) *Limiter {
	return &Limiter{rl: redis_rate.NewLimiter(rdb)}
}

// Allow counts one event for key against limit, with a burst of limit.Rate.
func (l *Limiter) Allow(ctx context.Context, key string, limit ratelimit.Limit) (ratelimit.Result, error) {
	return l.allowN(ctx, key, limit, 1)
}

// allowN counts n events at once: all admitted, or none.
func (l *Limiter) allowN(ctx context.Context, key string, limit ratelimit.Limit, n int) (ratelimit.Result, error) {
	if err := limit.Validate(); err != nil {
		return ratelimit.Result{}, err
	}
	// Checked here so a done context fails without a round trip, and the
	// same way as the in-process limiter.
	if err := ctx.Err(); err != nil {
		return ratelimit.Result{}, err
	}
	res, err := l.rl.AllowN(ctx, limiterPrefix+key, redis_rate.Limit{
		Rate:   limit.Rate,
		Burst:  limit.Rate,
		Period: limit.Period,
	}, n)
	if err != nil {
		return ratelimit.Result{}, fmt.Errorf("redis rate limit: %w", err)
	}
	out := ratelimit.Result{
		Allowed:    res.Allowed > 0,
		Limit:      limit.Rate,
		ResetAfter: max(res.ResetAfter, 0),
	}
	if out.Allowed {
		out.Remaining = remaining(limit, res)
	} else {
		out.RetryAfter = res.RetryAfter // redis_rate reports -1 when allowed; the port says 0
	}
	return out, nil
}

// remaining recomputes Remaining for an admitted event. redis_rate works in
// float seconds and Redis truncates the script's float to an integer, so
// 5.9999999999 becomes 5: for limits such as 7/1m, 3/300ms or 1200/1m the
// first event on a fresh key reported one less than Rate-1 (every time, not
// now and then). After an admitted event the bucket holds
// (Period - ResetAfter) / (Period/Rate) events; rounding that with a
// microsecond of slack gives the in-process limiter's exact answer.
func remaining(limit ratelimit.Limit, res *redis_rate.Result) int {
	interval := max(limit.Period/time.Duration(limit.Rate), 1)
	n := int((limit.Period - res.ResetAfter + time.Microsecond) / interval)
	return min(max(n, res.Remaining, 0), limit.Rate-1)
}

// Reset deletes key's bucket.
func (l *Limiter) Reset(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := l.rl.Reset(ctx, limiterPrefix+key); err != nil {
		return fmt.Errorf("redis rate limit reset: %w", err)
	}
	return nil
}
