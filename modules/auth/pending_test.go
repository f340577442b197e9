package auth

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
)

// flakyCache is a SessionCache that can be made unreachable.
type flakyCache struct {
	mu      sync.Mutex
	down    bool
	entries map[uuid.UUID]SessionState
}

var errDown = errors.New("cache unreachable")

func (c *flakyCache) Get(_ context.Context, id uuid.UUID) (SessionState, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.down {
		return SessionState{}, false, errDown
	}
	st, ok := c.entries[id]
	return st, ok, nil
}

func (c *flakyCache) Fill(ctx context.Context, id uuid.UUID, st SessionState, ttl time.Duration) error {
	return c.Set(ctx, id, st, ttl)
}

func (c *flakyCache) Set(_ context.Context, id uuid.UUID, st SessionState, _ time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.down {
		return errDown
	}
	c.entries[id] = st
	return nil
}

func (c *flakyCache) Delete(_ context.Context, ids ...uuid.UUID) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.down {
		return errDown
	}
	for _, id := range ids {
		delete(c.entries, id)
	}
	return nil
}

func TestRevocationRefusedByTheCacheIsReplayed(t *testing.T) {
	id := uuid.New()
	cache := &flakyCache{entries: map[uuid.UUID]SessionState{id: {Status: StatusActive}}}
	var p pendingRevocations
	now := time.Now()
	revoked := SessionState{Status: StatusRevoked}

	cache.down = true
	p.add(id, revoked, now.Add(time.Hour))
	if st, ok := p.get(id, now); !ok || st.Status != StatusRevoked {
		t.Fatal("this instance must treat the pending revocation as authoritative")
	}
	p.replay(context.Background(), cache, now)
	cache.down = false
	p.replay(context.Background(), cache, now.Add(retryEvery/2))
	if cache.entries[id].Status != StatusActive {
		t.Fatal("replay must be rate-limited")
	}
	p.replay(context.Background(), cache, now.Add(2*retryEvery))
	if cache.entries[id].Status != StatusRevoked {
		t.Fatalf("the stale active entry survived the recovery: %+v", cache.entries[id])
	}
	if _, ok := p.get(id, now.Add(2*retryEvery)); ok {
		t.Error("a replayed revocation must be forgotten")
	}
}

func TestExpiredPendingRevocationIsDropped(t *testing.T) {
	id := uuid.New()
	cache := &flakyCache{entries: map[uuid.UUID]SessionState{}}
	var p pendingRevocations
	now := time.Now()
	p.add(id, SessionState{Status: StatusRevoked}, now.Add(time.Second))
	if _, ok := p.get(id, now.Add(2*time.Second)); ok {
		t.Error("an expired entry must not answer")
	}
	p.replay(context.Background(), cache, now.Add(2*time.Second))
	if len(p.entries) != 0 || len(cache.entries) != 0 {
		t.Errorf("expired entry kept or written: %v %v", p.entries, cache.entries)
	}
}
