package redisstore_test

import (
	"context"
	"crypto/rand"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/lenticular/lenticular/adapters/redisstore"
	"github.com/lenticular/lenticular/modules/ratelimit"
	"github.com/lenticular/lenticular/modules/ratelimit/limitertest"
	"github.com/lenticular/lenticular/platform/testenv"
)

// newRedis connects to TEST_REDIS_URL (skipping loudly without it, failing
// under CI=true) and fails at once if the server does not answer.
func newRedis(t *testing.T) *redis.Client {
	t.Helper()
	opts, err := redis.ParseURL(testenv.RedisURL(t))
	if err != nil {
		t.Fatalf("TEST_REDIS_URL: %v", err)
	}
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { _ = rdb.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		t.Fatalf("ping TEST_REDIS_URL: %v", err)
	}
	return rdb
}

func TestLimiterContract(t *testing.T) {
	t.Parallel()
	newRedis(t) // skip or fail once, before the subtests
	limitertest.Run(t, func(t *testing.T) ratelimit.Limiter {
		return redisstore.NewLimiter(newRedis(t))
	})
}

func TestLimiterKeyLayout(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb := newRedis(t)
	l := redisstore.NewLimiter(rdb)
	key := "test:layout:" + rand.Text()
	stored := "rate:lt:rl:" + key // redis_rate's prefix, then ours

	if _, err := l.Allow(ctx, key, ratelimit.Limit{Rate: 5, Period: time.Minute}); err != nil {
		t.Fatalf("Allow: %v", err)
	}
	ttl, err := rdb.TTL(ctx, stored).Result()
	if err != nil {
		t.Fatalf("TTL %s: %v", stored, err)
	}
	// The bucket expires when it is full again (12s here), so idle keys
	// never accumulate in Redis.
	if ttl <= 0 || ttl > 13*time.Second {
		t.Fatalf("TTL of %s is %s, want the key stored there and expiring in about 12s", stored, ttl)
	}
	if err := l.Reset(ctx, key); err != nil {
		t.Fatalf("Reset: %v", err)
	}
	if n, err := rdb.Exists(ctx, stored).Result(); err != nil || n != 0 {
		t.Fatalf("after Reset, EXISTS %s = %d, %v; want 0", stored, n, err)
	}
}

func TestLeasingLimiterContract(t *testing.T) {
	t.Parallel()
	newRedis(t)
	limitertest.Run(t, func(t *testing.T) ratelimit.Limiter {
		return redisstore.NewLeasingLimiter(redisstore.NewLimiter(newRedis(t)))
	})
}

// Instances leasing from one bucket never admit more than the limit
// together, and lose at most one batch each to leases they do not spend.
func TestLeasingLimiterAcrossInstances(t *testing.T) {
	t.Parallel()
	limit := ratelimit.Limit{Rate: 1200, Period: time.Hour} // refills 1 every 3s: none during the test
	key := "test:leasing:" + rand.Text()
	instances := []*redisstore.LeasingLimiter{
		redisstore.NewLeasingLimiter(redisstore.NewLimiter(newRedis(t))),
		redisstore.NewLeasingLimiter(redisstore.NewLimiter(newRedis(t))),
		redisstore.NewLeasingLimiter(redisstore.NewLimiter(newRedis(t))),
	}
	var admitted atomic.Int64
	var wg sync.WaitGroup
	for i := range 12 {
		l := instances[i%len(instances)]
		wg.Go(func() {
			for range 150 {
				r, err := l.Allow(context.Background(), key, limit)
				if err != nil {
					t.Error(err)
					return
				}
				if r.Allowed {
					admitted.Add(1)
				}
			}
		})
	}
	wg.Wait()
	batch := int64(limit.Rate / 50)
	if got := admitted.Load(); got > int64(limit.Rate) || got < int64(limit.Rate)-int64(len(instances))*batch {
		t.Fatalf("admitted %d of 1800 across %d instances, want at most %d and at least %d", got, len(instances), limit.Rate, int64(limit.Rate)-int64(len(instances))*batch)
	}
}
