// Package cache opens the optional Redis connection shared by every
// instance (rate limits, revocation cache).
package cache

import (
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Open parses REDIS_URL and returns a client with short timeouts: Redis is
// on the hot path, and a stalled Redis must not stall requests. It does not
// dial; /readyz reports reachability.
func Open(url string) (*redis.Client, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL: not a valid redis URL")
	}
	opts.DialTimeout = 2 * time.Second
	opts.ReadTimeout = 500 * time.Millisecond
	opts.WriteTimeout = 500 * time.Millisecond
	opts.PoolTimeout = time.Second
	opts.MaxRetries = 1
	return redis.NewClient(opts), nil
}
