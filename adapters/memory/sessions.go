package memory

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/lenticular/lenticular/modules/auth"
	"github.com/lenticular/lenticular/modules/users"
)

var (
	_ auth.SessionStore     = (*Sessions)(nil)
	_ auth.ActionTokenStore = (*ActionTokens)(nil)
	_ auth.SessionCache     = (*SessionCache)(nil)
)

// Sessions is the in-process auth.SessionStore. It reads user status and
// role from a users repository for State.
type Sessions struct {
	mu       sync.Mutex
	sessions map[uuid.UUID]*auth.Session
	tokens   map[string]*auth.RefreshToken
	users    users.Repository
}

// NewSessions returns an empty store reading users from repo.
func NewSessions(repo users.Repository) *Sessions {
	return &Sessions{sessions: map[uuid.UUID]*auth.Session{}, tokens: map[string]*auth.RefreshToken{}, users: repo}
}

func (s *Sessions) Create(ctx context.Context, sess auth.Session, first auth.RefreshToken) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, t := sess, first
	s.sessions[sess.ID] = &c
	s.tokens[first.Hash] = &t
	return nil
}

func (s *Sessions) Get(ctx context.Context, id uuid.UUID) (auth.Session, error) {
	if err := ctx.Err(); err != nil {
		return auth.Session{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	x, ok := s.sessions[id]
	if !ok {
		return auth.Session{}, auth.ErrSessionNotFound
	}
	return *x, nil
}

func (s *Sessions) ListActive(ctx context.Context, owner users.ID, now time.Time) ([]auth.Session, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []auth.Session
	for _, x := range s.sessions {
		if x.UserID == owner && x.Active(now) {
			out = append(out, *x)
		}
	}
	slices.SortFunc(out, func(a, b auth.Session) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return out, nil
}

func (s *Sessions) Revoke(ctx context.Context, owner users.ID, id uuid.UUID, reason string, at time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	x, ok := s.sessions[id]
	if !ok || x.UserID != owner || x.RevokedAt != nil {
		return auth.ErrSessionNotFound
	}
	x.RevokedAt, x.RevokeReason = &at, reason
	return nil
}

func (s *Sessions) RevokeAll(ctx context.Context, owner users.ID, keep uuid.UUID, reason string, at time.Time) ([]uuid.UUID, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []uuid.UUID
	for id, x := range s.sessions {
		if x.UserID == owner && x.RevokedAt == nil && id != keep {
			x.RevokedAt, x.RevokeReason = &at, reason
			ids = append(ids, id)
		}
	}
	return ids, nil
}

func (s *Sessions) Touch(ctx context.Context, id uuid.UUID, at, expires time.Time, ip, ua string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	x, ok := s.sessions[id]
	if !ok {
		return auth.ErrSessionNotFound
	}
	x.LastUsedAt = at
	if !expires.IsZero() {
		x.ExpiresAt = expires
	}
	if ip != "" {
		x.IP = ip
	}
	if ua != "" {
		x.UserAgent = ua
	}
	return nil
}

func (s *Sessions) RefreshToken(ctx context.Context, hash string) (auth.RefreshToken, error) {
	if err := ctx.Err(); err != nil {
		return auth.RefreshToken{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[hash]
	if !ok {
		return auth.RefreshToken{}, auth.ErrRefreshTokenNotFound
	}
	return *t, nil
}

func (s *Sessions) Rotate(ctx context.Context, old string, next auth.RefreshToken, at time.Time) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[old]
	if !ok {
		return false, auth.ErrRefreshTokenNotFound
	}
	if t.RotatedAt != nil {
		return false, nil
	}
	t.RotatedAt = &at
	n := next
	s.tokens[next.Hash] = &n
	return true, nil
}

func (s *Sessions) AddRefreshToken(ctx context.Context, t auth.RefreshToken) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := t
	s.tokens[t.Hash] = &n
	return nil
}

func (s *Sessions) State(ctx context.Context, id uuid.UUID) (auth.SessionState, error) {
	sess, err := s.Get(ctx, id)
	if err != nil {
		return auth.SessionState{}, err
	}
	return stateOf(ctx, s.users, sess)
}

func stateOf(ctx context.Context, repo users.Repository, sess auth.Session) (auth.SessionState, error) {
	u, err := repo.ByID(ctx, sess.UserID)
	switch {
	case err == nil && !u.Usable(), errors.Is(err, users.ErrNotFound):
		return auth.SessionState{Status: auth.StatusUserGone, UserID: sess.UserID}, nil
	case err != nil:
		return auth.SessionState{}, err
	case sess.RevokedAt != nil:
		if sess.RevokeReason == "user_disabled" || sess.RevokeReason == "account_deleted" {
			return auth.SessionState{Status: auth.StatusUserGone, UserID: sess.UserID}, nil
		}
		return auth.SessionState{Status: auth.StatusRevoked, UserID: sess.UserID}, nil
	}
	return auth.SessionState{Status: auth.StatusActive, UserID: sess.UserID, Role: u.Role}, nil
}

// ActionTokens is the in-process auth.ActionTokenStore.
type ActionTokens struct {
	mu     sync.Mutex
	tokens map[string]*auth.ActionToken
}

// NewActionTokens returns an empty store.
func NewActionTokens() *ActionTokens { return &ActionTokens{tokens: map[string]*auth.ActionToken{}} }

func (a *ActionTokens) Create(ctx context.Context, t auth.ActionToken) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	c := t
	a.tokens[t.Hash] = &c
	return nil
}

func (a *ActionTokens) Find(ctx context.Context, hash string, p auth.Purpose) (auth.ActionToken, error) {
	if err := ctx.Err(); err != nil {
		return auth.ActionToken{}, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	t, ok := a.tokens[hash]
	if !ok || t.Purpose != p || t.UsedAt != nil {
		return auth.ActionToken{}, auth.ErrActionTokenInvalid
	}
	return *t, nil
}

func (a *ActionTokens) Consume(ctx context.Context, hash string, p auth.Purpose, at time.Time) (auth.ActionToken, error) {
	if err := ctx.Err(); err != nil {
		return auth.ActionToken{}, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	t, ok := a.tokens[hash]
	if !ok || t.Purpose != p || t.UsedAt != nil || !at.Before(t.ExpiresAt) {
		return auth.ActionToken{}, auth.ErrActionTokenInvalid
	}
	t.UsedAt = &at
	return *t, nil
}

func (a *ActionTokens) InvalidateAll(ctx context.Context, user users.ID, p auth.Purpose, at time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, t := range a.tokens {
		if t.UserID == user && t.Purpose == p && t.UsedAt == nil {
			t.UsedAt = &at
		}
	}
	return nil
}

// SessionCache is the in-process auth.SessionCache for embedded mode (one
// instance) and tests. Expired entries are dropped when read and swept now
// and then, so memory stays bounded by the sessions in use.
type SessionCache struct {
	mu        sync.Mutex
	entries   map[uuid.UUID]cacheEntry
	now       func() time.Time
	nextSweep time.Time
}

type cacheEntry struct {
	st      auth.SessionState
	expires time.Time
}

// NewSessionCache returns an empty cache.
func NewSessionCache() *SessionCache {
	return &SessionCache{entries: map[uuid.UUID]cacheEntry{}, now: time.Now}
}

func (c *SessionCache) Get(ctx context.Context, id uuid.UUID) (auth.SessionState, bool, error) {
	if err := ctx.Err(); err != nil {
		return auth.SessionState{}, false, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[id]
	if !ok || !c.now().Before(e.expires) {
		return auth.SessionState{}, false, nil
	}
	return e.st, true, nil
}

func (c *SessionCache) put(id uuid.UUID, st auth.SessionState, ttl time.Duration, onlyIfAbsent bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if now.After(c.nextSweep) {
		for k, e := range c.entries {
			if !now.Before(e.expires) {
				delete(c.entries, k)
			}
		}
		c.nextSweep = now.Add(time.Minute)
	}
	if e, ok := c.entries[id]; onlyIfAbsent && ok && now.Before(e.expires) {
		return
	}
	c.entries[id] = cacheEntry{st: st, expires: now.Add(ttl)}
}

func (c *SessionCache) Fill(ctx context.Context, id uuid.UUID, st auth.SessionState, ttl time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.put(id, st, ttl, true)
	return nil
}

func (c *SessionCache) Set(ctx context.Context, id uuid.UUID, st auth.SessionState, ttl time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.put(id, st, ttl, false)
	return nil
}

func (c *SessionCache) Delete(ctx context.Context, ids ...uuid.UUID) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, id := range ids {
		delete(c.entries, id)
	}
	return nil
}
