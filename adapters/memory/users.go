package memory

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lenticular/lenticular/modules/users"
)

var _ users.Repository = (*Users)(nil)

// Users is the in-process users.Repository (tests, and the contract suite's
// reference implementation).
type Users struct {
	mu         sync.Mutex
	byID       map[users.ID]*users.User
	byEmail    map[string]users.ID
	byUsername map[string]users.ID
}

// NewUsers returns an empty repository.
func NewUsers() *Users {
	return &Users{byID: map[users.ID]*users.User{}, byEmail: map[string]users.ID{}, byUsername: map[string]users.ID{}}
}

func clone(u users.User) users.User {
	if u.Metadata != nil {
		u.Metadata = bytes.Clone(u.Metadata)
	}
	return u
}

func (r *Users) Create(ctx context.Context, u users.User) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.byEmail[u.Email.Normalized()]; ok {
		return users.ErrEmailTaken
	}
	if !u.Username.IsZero() {
		if _, ok := r.byUsername[u.Username.Normalized()]; ok {
			return users.ErrUsernameTaken
		}
	}
	c := clone(u)
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	r.byID[u.ID] = &c
	r.index(&c)
	return nil
}

func (r *Users) index(u *users.User) {
	r.byEmail[u.Email.Normalized()] = u.ID
	if !u.Username.IsZero() {
		r.byUsername[u.Username.Normalized()] = u.ID
	}
}

func (r *Users) live(id users.ID) (*users.User, error) {
	u, ok := r.byID[id]
	if !ok || u.DeletedAt != nil {
		return nil, users.ErrNotFound
	}
	return u, nil
}

func (r *Users) ByID(ctx context.Context, id users.ID) (users.User, error) {
	if err := ctx.Err(); err != nil {
		return users.User{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	u, err := r.live(id)
	if err != nil {
		return users.User{}, err
	}
	return clone(*u), nil
}

func (r *Users) ByEmail(ctx context.Context, e users.Email) (users.User, error) {
	r.mu.Lock()
	id, ok := r.byEmail[e.Normalized()]
	r.mu.Unlock()
	if !ok {
		return users.User{}, users.ErrNotFound
	}
	return r.ByID(ctx, id)
}

func (r *Users) ByUsername(ctx context.Context, n users.Username) (users.User, error) {
	r.mu.Lock()
	id, ok := r.byUsername[n.Normalized()]
	r.mu.Unlock()
	if !ok {
		return users.User{}, users.ErrNotFound
	}
	return r.ByID(ctx, id)
}

func (r *Users) Update(ctx context.Context, id users.ID, fn func(*users.User) error) (users.User, error) {
	if err := ctx.Err(); err != nil {
		return users.User{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	cur, err := r.live(id)
	if err != nil {
		return users.User{}, err
	}
	next := clone(*cur)
	if err := fn(&next); err != nil {
		return users.User{}, err
	}
	if !next.Username.IsZero() {
		if other, ok := r.byUsername[next.Username.Normalized()]; ok && other != id {
			return users.User{}, users.ErrUsernameTaken
		}
	}
	if !next.Email.Equal(cur.Email) {
		if _, ok := r.byEmail[next.Email.Normalized()]; ok {
			return users.User{}, users.ErrEmailTaken
		}
	}
	delete(r.byEmail, cur.Email.Normalized())
	if !cur.Username.IsZero() {
		delete(r.byUsername, cur.Username.Normalized())
	}
	next.ID, next.CreatedAt = cur.ID, cur.CreatedAt
	next.UpdatedAt = time.Now().UTC()
	stored := clone(next)
	r.byID[id] = &stored
	r.index(&stored)
	return clone(stored), nil
}

func (r *Users) List(ctx context.Context, q users.Query) ([]users.User, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []users.User
	search := strings.ToLower(q.Search)
	for _, u := range r.byID {
		if u.DeletedAt != nil || q.Role != "" && u.Role != q.Role {
			continue
		}
		if !q.After.IsZero() && bytes.Compare(u.ID[:], q.After[:]) >= 0 {
			continue
		}
		if search != "" && !strings.Contains(u.Email.Normalized(), search) &&
			!strings.Contains(u.Username.Normalized(), search) && !strings.Contains(strings.ToLower(u.DisplayName), search) {
			continue
		}
		out = append(out, clone(*u))
	}
	slices.SortFunc(out, func(a, b users.User) int { return bytes.Compare(b.ID[:], a.ID[:]) })
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out, nil
}

func (r *Users) CountActiveAdmins(ctx context.Context) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, u := range r.byID {
		if u.Role == users.RoleAdmin && u.IsActive && u.DeletedAt == nil {
			n++
		}
	}
	return n, nil
}

// Tx is the in-process users.Transactor: it runs fn directly (the memory
// adapters have no rollback).
type Tx struct{}

var _ users.Transactor = Tx{}

// InTx calls fn.
func (Tx) InTx(ctx context.Context, fn func(context.Context) error) error { return fn(ctx) }
