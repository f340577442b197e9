package auth

import (
	"context"
	"sync"
	"time"

	"github.com/google/uuid"
)

// pendingRevocations remembers revocations the session cache refused (Redis
// unreachable while it keeps its data, e.g. a network partition) and writes
// them again once it answers. Without this, an "active" entry cached before
// the outage would admit a logged-out token on every instance until it
// expired (CacheActiveTTL) after Redis came back. This instance also treats
// a pending entry as authoritative at once.
type pendingRevocations struct {
	mu      sync.Mutex
	entries map[uuid.UUID]pendingRevocation
	lastTry time.Time
}

type pendingRevocation struct {
	st    SessionState
	until time.Time
}

// retryEvery bounds how often a request pays for a replay attempt.
const retryEvery = time.Second

func (p *pendingRevocations) add(id uuid.UUID, st SessionState, until time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.entries == nil {
		p.entries = make(map[uuid.UUID]pendingRevocation)
	}
	p.entries[id] = pendingRevocation{st: st, until: until}
}

func (p *pendingRevocations) get(id uuid.UUID, now time.Time) (SessionState, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e, ok := p.entries[id]
	if !ok || now.After(e.until) {
		return SessionState{}, false
	}
	return e.st, true
}

// replay writes what is pending to the cache, at most once per retryEvery;
// entries the cache accepts (or that have outlived every token they could
// protect against) are forgotten.
func (p *pendingRevocations) replay(ctx context.Context, cache SessionCache, now time.Time) {
	p.mu.Lock()
	if len(p.entries) == 0 || now.Sub(p.lastTry) < retryEvery {
		p.mu.Unlock()
		return
	}
	p.lastTry = now
	todo := make(map[uuid.UUID]pendingRevocation, len(p.entries))
	for id, e := range p.entries {
		todo[id] = e
	}
	p.mu.Unlock()

	for id, e := range todo {
		ttl := e.until.Sub(now)
		if ttl > 0 {
			if err := cache.Set(ctx, id, e.st, ttl); err != nil {
				return // still unreachable: try again later
			}
		}
		p.mu.Lock()
		if cur, ok := p.entries[id]; ok && cur == e {
			delete(p.entries, id)
		}
		p.mu.Unlock()
	}
}
