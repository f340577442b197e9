package redisstore

import (
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"
)

// near is an in-process copy of values whose truth is elsewhere (Redis,
// the database), kept exact by a Broadcast: it answers only while the
// Broadcast is healthy, and every write elsewhere invalidates it on every
// instance before the write is acknowledged.
type near[V any] struct {
	bus    *Broadcast
	prefix string
	lru    *expirable.LRU[string, entry[V]]
	// gen counts invalidations. A reader notes it before fetching from the
	// source and stores its result only if no invalidation ran meanwhile:
	// otherwise a value read just before a write could be stored just
	// after that write's invalidation, and served stale.
	mu  sync.Mutex
	gen uint64
}

// newNear returns a near cache of at most size entries, each kept at most
// ttl (a bound on staleness if an invalidation were ever missed without
// the subscription noticing), registered on bus under prefix.
func newNear[V any](bus *Broadcast, prefix string, size int, ttl time.Duration) *near[V] {
	n := &near[V]{bus: bus, prefix: prefix, lru: expirable.NewLRU[string, entry[V]](size, nil, ttl)}
	bus.register(n)
	return n
}

// entry is a value with its own deadline, when the source gave one shorter
// than the cache's ttl (a Redis key about to expire).
type entry[V any] struct {
	v        V
	deadline time.Time // zero: the cache's ttl only
}

func (n *near[V]) get(key string) (V, bool) {
	var zero V
	if !n.bus.Healthy() {
		return zero, false
	}
	e, ok := n.lru.Get(n.prefix + key)
	if !ok || !e.deadline.IsZero() && !time.Now().Before(e.deadline) {
		return zero, false
	}
	return e.v, true
}

// generation is read before fetching a value that put may store.
func (n *near[V]) generation() uint64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.gen
}

// put stores v read at generation gen; deadline (zero for none) is when the
// source's copy expires.
func (n *near[V]) put(key string, v V, gen uint64, deadline time.Time) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.gen == gen && n.bus.Healthy() {
		n.lru.Add(n.prefix+key, entry[V]{v: v, deadline: deadline})
	}
}

// key is the name other instances know the entry by.
func (n *near[V]) key(k string) string { return n.prefix + k }

func (n *near[V]) invalidate(key string) {
	if !strings.HasPrefix(key, n.prefix) {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.gen++
	n.lru.Remove(key)
}

func (n *near[V]) invalidateAll() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.gen++
	n.lru.Purge()
}
