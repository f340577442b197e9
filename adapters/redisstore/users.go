package redisstore

import (
	"bytes"
	"context"
	"time"

	"github.com/lenticular/lenticular/modules/users"
	"github.com/lenticular/lenticular/platform/database"
)

var _ users.Repository = (*UserCache)(nil)

// UserCache keeps accounts read by id in process, in front of the
// users.Repository that owns them, so an authenticated request that only
// needs its caller's account (GET /v1/users/me, refresh) costs no database
// round trip. Every write through it invalidates the copy on every
// instance once the transaction has committed, and waits for every
// instance to confirm: a change is what every instance answers from the
// moment the write's request answers.
//
// Writes that bypass the repository (SQL typed by hand) are seen after at
// most the cache's ttl.
type UserCache struct {
	users.Repository
	near *near[users.User]
}

// NewUserCache wraps repo with copies kept exact by bus (at most size
// accounts, each at most ttl).
func NewUserCache(repo users.Repository, bus *Broadcast, size int, ttl time.Duration) *UserCache {
	return &UserCache{Repository: repo, near: newNear[users.User](bus, "u:", size, ttl)}
}

// ByID answers from the copy when there is one. Inside a transaction it
// reads the store: the caller may rely on its isolation.
func (c *UserCache) ByID(ctx context.Context, id users.ID) (users.User, error) {
	if database.InTransaction(ctx) {
		return c.Repository.ByID(ctx, id)
	}
	if u, ok := c.near.get(id.String()); ok {
		return clone(u), nil
	}
	gen := c.near.generation()
	u, err := c.Repository.ByID(ctx, id)
	if err != nil {
		return u, err
	}
	c.near.put(id.String(), clone(u), gen, time.Time{})
	return u, nil
}

// Update writes through and invalidates every copy after the commit.
func (c *UserCache) Update(ctx context.Context, id users.ID, fn func(*users.User) error) (users.User, error) {
	u, err := c.Repository.Update(ctx, id, fn)
	if err != nil {
		return u, err
	}
	database.AfterCommit(ctx, func() {
		if err := c.near.bus.Invalidate(context.WithoutCancel(ctx), c.near.key(id.String())); err != nil {
			// The write is durable and stays: instances that did not
			// confirm serve their copy until it expires.
			c.near.bus.log.ErrorContext(ctx, "invalidate cached account", "user_id", id.String(), "error", err)
		}
	})
	return u, nil
}

// clone copies what a caller could change through a pointer, so a cached
// account is never shared.
func clone(u users.User) users.User {
	u.EmailVerifiedAt = clonePtr(u.EmailVerifiedAt)
	u.LastLoginAt = clonePtr(u.LastLoginAt)
	u.PasswordChangedAt = clonePtr(u.PasswordChangedAt)
	u.DeletedAt = clonePtr(u.DeletedAt)
	u.Metadata = bytes.Clone(u.Metadata)
	return u
}

func clonePtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	c := *t
	return &c
}
