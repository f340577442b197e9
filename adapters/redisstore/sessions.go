package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/lenticular/lenticular/modules/auth"
	"github.com/lenticular/lenticular/modules/users"
)

var _ auth.SessionCache = (*SessionCache)(nil)

// sessionPrefix namespaces the session-state keys: "lt:sess:<session id>".
const sessionPrefix = "lt:sess:"

// SessionCache is the auth.SessionCache shared by every instance: a
// revocation written by one instance is read by the next request on any
// other. Values are "a|<user id>|<role>" (active), "r" (revoked) and "u"
// (user disabled or deleted); each key expires (Fill, Set ttl), so Redis
// holds only sessions in use. Losing Redis's data only costs database
// reads: the session rows stay the truth.
//
// With a Broadcast (NewNearSessionCache) each instance also keeps the
// states it read in process, so an authenticated request costs no round
// trip: Set and Delete invalidate those copies on every instance and wait
// for every instance to confirm before they return.
type SessionCache struct {
	rdb  redis.UniversalClient
	near *near[auth.SessionState]
}

// NewSessionCache returns a cache in rdb.
func NewSessionCache(rdb redis.UniversalClient) *SessionCache { return &SessionCache{rdb: rdb} }

// NewNearSessionCache returns a cache in rdb with in-process copies kept
// exact by bus (at most 100,000 sessions, each at most ttl).
func NewNearSessionCache(rdb redis.UniversalClient, bus *Broadcast, ttl time.Duration) *SessionCache {
	return &SessionCache{rdb: rdb, near: newNear[auth.SessionState](bus, "s:", 100_000, ttl)}
}

func sessionKey(id uuid.UUID) string { return sessionPrefix + id.String() }

func encodeState(st auth.SessionState) string {
	if st.Status == auth.StatusActive {
		return "a|" + st.UserID.String() + "|" + string(st.Role)
	}
	return string(rune(st.Status))
}

func decodeState(v string) (auth.SessionState, error) {
	switch {
	case v == "r":
		return auth.SessionState{Status: auth.StatusRevoked}, nil
	case v == "u":
		return auth.SessionState{Status: auth.StatusUserGone}, nil
	case strings.HasPrefix(v, "a|"):
		parts := strings.Split(v, "|")
		if len(parts) == 3 {
			uid, err := users.ParseID(parts[1])
			role, err2 := users.ParseRole(parts[2])
			if err == nil && err2 == nil {
				return auth.SessionState{Status: auth.StatusActive, UserID: uid, Role: role}, nil
			}
		}
	}
	return auth.SessionState{}, fmt.Errorf("session cache: malformed value %q", v)
}

func (c *SessionCache) Get(ctx context.Context, id uuid.UUID) (auth.SessionState, bool, error) {
	var gen uint64
	if c.near != nil {
		if st, ok := c.near.get(id.String()); ok {
			return st, true, nil
		}
		gen = c.near.generation()
	}
	var (
		v        string
		err      error
		deadline time.Time
	)
	if c.near == nil {
		v, err = c.rdb.Get(ctx, sessionKey(id)).Result()
	} else {
		// The copy must not outlive the key: read its TTL in the same
		// round trip.
		var get *redis.StringCmd
		var ttl *redis.DurationCmd
		_, err = c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			get = p.Get(ctx, sessionKey(id))
			ttl = p.PTTL(ctx, sessionKey(id))
			return nil
		})
		v = get.Val()
		if err == nil && ttl.Val() > 0 {
			deadline = time.Now().Add(ttl.Val())
		}
	}
	if errors.Is(err, redis.Nil) {
		return auth.SessionState{}, false, nil
	}
	if err != nil {
		return auth.SessionState{}, false, fmt.Errorf("session cache get: %w", err)
	}
	st, err := decodeState(v)
	if err != nil {
		return auth.SessionState{}, false, err
	}
	if c.near != nil {
		c.near.put(id.String(), st, gen, deadline)
	}
	return st, true, nil
}

// invalidate drops in-process copies on every instance after a write.
func (c *SessionCache) invalidate(ctx context.Context, ids ...uuid.UUID) error {
	if c.near == nil || len(ids) == 0 {
		return nil
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = c.near.key(id.String())
	}
	if err := c.near.bus.Invalidate(ctx, keys...); err != nil {
		return fmt.Errorf("session cache: %w", err)
	}
	return nil
}

func (c *SessionCache) Fill(ctx context.Context, id uuid.UUID, st auth.SessionState, ttl time.Duration) error {
	if err := c.rdb.SetNX(ctx, sessionKey(id), encodeState(st), ttl).Err(); err != nil {
		return fmt.Errorf("session cache fill: %w", err)
	}
	return nil
}

func (c *SessionCache) Set(ctx context.Context, id uuid.UUID, st auth.SessionState, ttl time.Duration) error {
	if err := c.rdb.Set(ctx, sessionKey(id), encodeState(st), ttl).Err(); err != nil {
		return fmt.Errorf("session cache set: %w", err)
	}
	return c.invalidate(ctx, id)
}

func (c *SessionCache) Delete(ctx context.Context, ids ...uuid.UUID) error {
	if len(ids) == 0 {
		return ctx.Err()
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = sessionKey(id)
	}
	if err := c.rdb.Del(ctx, keys...).Err(); err != nil {
		return fmt.Errorf("session cache delete: %w", err)
	}
	return c.invalidate(ctx, ids...)
}
