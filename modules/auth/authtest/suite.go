// Package authtest is the contract of the auth module's storage ports:
// SessionStore and ActionTokenStore (memory, SQLite, PostgreSQL) and
// SessionCache (memory, Redis). Each adapter's tests call the Run
// functions with constructors.
//
// The contract, as checked below:
//   - Sessions: Create stores a session and its first refresh token; Get
//     and RefreshToken find them (ErrSessionNotFound,
//     ErrRefreshTokenNotFound otherwise); ListActive returns only the
//     owner's unrevoked, unexpired sessions; Revoke needs the owner (another
//     user's session is ErrSessionNotFound) and works once; RevokeAll spares
//     keep and returns what it revoked; Touch updates use and expiry.
//   - Rotation: of many concurrent Rotate calls on one token exactly one
//     returns true; the child links to its parent; AddRefreshToken stores
//     a sibling.
//   - State: active sessions carry the user's current role; revoked ones
//     are StatusRevoked; a disabled or deleted user's are StatusUserGone.
//   - Action tokens: single use (also under concurrency), purpose-bound,
//     expiring; InvalidateAll kills the user's unused tokens of a purpose.
//   - SessionCache: Get misses until Fill or Set; Fill never overwrites an
//     entry; Set does; Delete removes; entries expire after their TTL.
package authtest

import (
	"context"
	"crypto/rand"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/lenticular/lenticular/modules/auth"
	"github.com/lenticular/lenticular/modules/users"
	"github.com/lenticular/lenticular/modules/users/userstest"
)

// Harness is one empty store set over one database.
type Harness struct {
	Users    users.Repository
	Sessions auth.SessionStore
	Tokens   auth.ActionTokenStore
}

// RunStores runs the SessionStore and ActionTokenStore contract.
func RunStores(t *testing.T, newHarness func(t *testing.T) Harness) {
	t.Helper()
	tests := []struct {
		name string
		run  func(t *testing.T, h Harness)
	}{
		{"sessions lifecycle", testSessions},
		{"revoke needs the owner", testRevokeOwner},
		{"rotation is atomic", testRotation},
		{"session state follows user and revocation", testState},
		{"action tokens are single use", testActionTokens},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, newHarness(t)) })
	}
}

var t0 = time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)

func newUser(t *testing.T, h Harness) users.User {
	t.Helper()
	u := userstest.NewUser(t, rand.Text()[:10]+"@example.com", "")
	if err := h.Users.Create(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	return u
}

func newSession(t *testing.T, h Harness, owner users.ID, at time.Time) (auth.Session, auth.RefreshToken) {
	t.Helper()
	s := auth.Session{ID: uuid.Must(uuid.NewV7()), UserID: owner, UserAgent: "test/1.0", IP: "203.0.113.7",
		CreatedAt: at, LastUsedAt: at, ExpiresAt: at.Add(30 * 24 * time.Hour)}
	rt := auth.RefreshToken{Hash: auth.HashToken(rand.Text()), SessionID: s.ID, CreatedAt: at, ExpiresAt: s.ExpiresAt}
	if err := h.Sessions.Create(context.Background(), s, rt); err != nil {
		t.Fatal(err)
	}
	return s, rt
}

func testSessions(t *testing.T, h Harness) {
	ctx := context.Background()
	u := newUser(t, h)
	s1, rt1 := newSession(t, h, u.ID, t0)
	s2, _ := newSession(t, h, u.ID, t0.Add(time.Minute))
	s3, _ := newSession(t, h, u.ID, t0.Add(2*time.Minute))

	got, err := h.Sessions.Get(ctx, s1.ID)
	if err != nil || got.UserID != u.ID || got.UserAgent != "test/1.0" || got.IP != "203.0.113.7" || !got.CreatedAt.Equal(t0) || got.RevokedAt != nil {
		t.Fatalf("Get = %+v, %v", got, err)
	}
	if _, err := h.Sessions.Get(ctx, uuid.New()); !errors.Is(err, auth.ErrSessionNotFound) {
		t.Errorf("Get(unknown) = %v", err)
	}
	rt, err := h.Sessions.RefreshToken(ctx, rt1.Hash)
	if err != nil || rt.SessionID != s1.ID || rt.RotatedAt != nil || rt.Parent != "" {
		t.Errorf("RefreshToken = %+v, %v", rt, err)
	}
	if _, err := h.Sessions.RefreshToken(ctx, auth.HashToken("nope")); !errors.Is(err, auth.ErrRefreshTokenNotFound) {
		t.Errorf("RefreshToken(unknown) = %v", err)
	}
	list, err := h.Sessions.ListActive(ctx, u.ID, t0.Add(time.Hour))
	if err != nil || len(list) != 3 || list[0].ID != s3.ID {
		t.Fatalf("ListActive = %d sessions (%v), want 3 newest first", len(list), err)
	}
	later := t0.Add(time.Hour)
	if err := h.Sessions.Touch(ctx, s2.ID, later, later.Add(40*24*time.Hour), "198.51.100.1", "other/2"); err != nil {
		t.Fatal(err)
	}
	if got, _ := h.Sessions.Get(ctx, s2.ID); !got.LastUsedAt.Equal(later) || got.IP != "198.51.100.1" || got.UserAgent != "other/2" || !got.ExpiresAt.Equal(later.Add(40*24*time.Hour)) {
		t.Errorf("after Touch: %+v", got)
	}
	if err := h.Sessions.Revoke(ctx, u.ID, s1.ID, "logout", later); err != nil {
		t.Fatal(err)
	}
	if err := h.Sessions.Revoke(ctx, u.ID, s1.ID, "logout", later); !errors.Is(err, auth.ErrSessionNotFound) {
		t.Errorf("second Revoke = %v, want ErrSessionNotFound", err)
	}
	if got, _ := h.Sessions.Get(ctx, s1.ID); got.RevokedAt == nil || got.RevokeReason != "logout" {
		t.Errorf("revoked session: %+v", got)
	}
	ids, err := h.Sessions.RevokeAll(ctx, u.ID, s3.ID, "password_changed", later)
	if err != nil || len(ids) != 1 || ids[0] != s2.ID {
		t.Errorf("RevokeAll(keep s3) = %v, %v; want [s2]", ids, err)
	}
	if list, _ := h.Sessions.ListActive(ctx, u.ID, later); len(list) != 1 || list[0].ID != s3.ID {
		t.Errorf("after RevokeAll: %d active", len(list))
	}
	// Expired sessions are not active.
	if list, _ := h.Sessions.ListActive(ctx, u.ID, t0.Add(31*24*time.Hour)); len(list) != 0 {
		t.Errorf("expired sessions listed: %d", len(list))
	}
	ids, _ = h.Sessions.RevokeAll(ctx, u.ID, uuid.Nil, "logout_all", later)
	if len(ids) != 1 {
		t.Errorf("RevokeAll(all) revoked %d, want 1", len(ids))
	}
}

func testRevokeOwner(t *testing.T, h Harness) {
	ctx := context.Background()
	alice, mallory := newUser(t, h), newUser(t, h)
	s, _ := newSession(t, h, alice.ID, t0)
	if err := h.Sessions.Revoke(ctx, mallory.ID, s.ID, "x", t0); !errors.Is(err, auth.ErrSessionNotFound) {
		t.Fatalf("revoking another user's session = %v, want ErrSessionNotFound", err)
	}
	if ids, _ := h.Sessions.RevokeAll(ctx, mallory.ID, uuid.Nil, "x", t0); len(ids) != 0 {
		t.Fatalf("RevokeAll of another user touched %d sessions", len(ids))
	}
	if got, _ := h.Sessions.Get(ctx, s.ID); got.RevokedAt != nil {
		t.Fatal("another user revoked the session")
	}
}

func testRotation(t *testing.T, h Harness) {
	ctx := context.Background()
	u := newUser(t, h)
	s, rt := newSession(t, h, u.ID, t0)
	const n = 20
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			next := auth.RefreshToken{Hash: auth.HashToken(rand.Text()), SessionID: s.ID, Parent: rt.Hash, CreatedAt: t0, ExpiresAt: s.ExpiresAt}
			ok, err := h.Sessions.Rotate(ctx, rt.Hash, next, t0.Add(time.Second))
			if err != nil {
				t.Errorf("Rotate: %v", err)
			}
			if ok {
				wins.Add(1)
				got, err := h.Sessions.RefreshToken(ctx, next.Hash)
				if err != nil || got.Parent != rt.Hash {
					t.Errorf("child = %+v, %v", got, err)
				}
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d rotations won, want 1", wins.Load())
	}
	old, _ := h.Sessions.RefreshToken(ctx, rt.Hash)
	if old.RotatedAt == nil || !old.RotatedAt.Equal(t0.Add(time.Second)) {
		t.Errorf("rotated token: %+v", old)
	}
	sib := auth.RefreshToken{Hash: auth.HashToken(rand.Text()), SessionID: s.ID, Parent: rt.Hash, CreatedAt: t0, ExpiresAt: s.ExpiresAt}
	if err := h.Sessions.AddRefreshToken(ctx, sib); err != nil {
		t.Fatal(err)
	}
	if got, err := h.Sessions.RefreshToken(ctx, sib.Hash); err != nil || got.Parent != rt.Hash {
		t.Errorf("sibling = %+v, %v", got, err)
	}
	if _, err := h.Sessions.Rotate(ctx, auth.HashToken("unknown"), sib, t0); !errors.Is(err, auth.ErrRefreshTokenNotFound) {
		t.Errorf("Rotate(unknown) = %v", err)
	}
}

func testState(t *testing.T, h Harness) {
	ctx := context.Background()
	u := newUser(t, h)
	s, _ := newSession(t, h, u.ID, t0)
	st, err := h.Sessions.State(ctx, s.ID)
	if err != nil || st.Status != auth.StatusActive || st.UserID != u.ID || st.Role != users.RoleUser {
		t.Fatalf("State = %+v, %v", st, err)
	}
	if _, err := h.Users.Update(ctx, u.ID, func(x *users.User) error { x.Role = users.RoleAdmin; return nil }); err != nil {
		t.Fatal(err)
	}
	if st, _ := h.Sessions.State(ctx, s.ID); st.Role != users.RoleAdmin {
		t.Errorf("State role = %s after promotion", st.Role)
	}
	s2, _ := newSession(t, h, u.ID, t0)
	_ = h.Sessions.Revoke(ctx, u.ID, s2.ID, "logout", t0)
	if st, _ := h.Sessions.State(ctx, s2.ID); st.Status != auth.StatusRevoked {
		t.Errorf("revoked session state = %c", st.Status)
	}
	if _, err := h.Users.Update(ctx, u.ID, func(x *users.User) error { x.IsActive = false; return nil }); err != nil {
		t.Fatal(err)
	}
	if st, _ := h.Sessions.State(ctx, s.ID); st.Status != auth.StatusUserGone {
		t.Errorf("disabled user's session state = %c", st.Status)
	}
	if _, err := h.Sessions.State(ctx, uuid.New()); !errors.Is(err, auth.ErrSessionNotFound) {
		t.Errorf("State(unknown) = %v", err)
	}
}

func testActionTokens(t *testing.T, h Harness) {
	ctx := context.Background()
	u := newUser(t, h)
	mk := func(p auth.Purpose, ttl time.Duration) auth.ActionToken {
		tok := auth.ActionToken{Hash: auth.HashToken(rand.Text()), UserID: u.ID, Purpose: p, CreatedAt: t0, ExpiresAt: t0.Add(ttl)}
		if err := h.Tokens.Create(ctx, tok); err != nil {
			t.Fatal(err)
		}
		return tok
	}
	reset := mk(auth.PurposeResetPassword, time.Hour)
	if _, err := h.Tokens.Find(ctx, reset.Hash, auth.PurposeVerifyEmail); !errors.Is(err, auth.ErrActionTokenInvalid) {
		t.Errorf("Find with another purpose = %v", err)
	}
	if got, err := h.Tokens.Find(ctx, reset.Hash, auth.PurposeResetPassword); err != nil || got.UserID != u.ID {
		t.Errorf("Find = %+v, %v", got, err)
	}
	if _, err := h.Tokens.Consume(ctx, reset.Hash, auth.PurposeResetPassword, t0.Add(2*time.Hour)); !errors.Is(err, auth.ErrActionTokenInvalid) {
		t.Errorf("Consume after expiry = %v", err)
	}
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			if _, err := h.Tokens.Consume(ctx, reset.Hash, auth.PurposeResetPassword, t0.Add(time.Minute)); err == nil {
				wins.Add(1)
			} else if !errors.Is(err, auth.ErrActionTokenInvalid) {
				t.Errorf("Consume: %v", err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("token consumed %d times, want 1", wins.Load())
	}
	if _, err := h.Tokens.Find(ctx, reset.Hash, auth.PurposeResetPassword); !errors.Is(err, auth.ErrActionTokenInvalid) {
		t.Errorf("Find after use = %v", err)
	}
	a, b := mk(auth.PurposeResetPassword, time.Hour), mk(auth.PurposeVerifyEmail, time.Hour)
	if err := h.Tokens.InvalidateAll(ctx, u.ID, auth.PurposeResetPassword, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Tokens.Consume(ctx, a.Hash, auth.PurposeResetPassword, t0); !errors.Is(err, auth.ErrActionTokenInvalid) {
		t.Errorf("invalidated token consumed: %v", err)
	}
	if _, err := h.Tokens.Consume(ctx, b.Hash, auth.PurposeVerifyEmail, t0); err != nil {
		t.Errorf("token of another purpose was invalidated: %v", err)
	}
}

// RunCache runs the SessionCache contract.
func RunCache(t *testing.T, newCache func(t *testing.T) auth.SessionCache) {
	t.Helper()
	ctx := context.Background()
	t.Run("fill, set, delete", func(t *testing.T) {
		c := newCache(t)
		id := uuid.New()
		if _, ok, err := c.Get(ctx, id); ok || err != nil {
			t.Fatalf("Get(empty) = %v, %v", ok, err)
		}
		uid := users.NewID()
		active := auth.SessionState{Status: auth.StatusActive, UserID: uid, Role: users.RoleModerator}
		if err := c.Fill(ctx, id, active, time.Minute); err != nil {
			t.Fatal(err)
		}
		if st, ok, err := c.Get(ctx, id); !ok || err != nil || st != active {
			t.Fatalf("Get after Fill = %+v, %v, %v", st, ok, err)
		}
		if err := c.Set(ctx, id, auth.SessionState{Status: auth.StatusRevoked}, time.Minute); err != nil {
			t.Fatal(err)
		}
		// A slow reader's Fill must not resurrect a revoked session.
		if err := c.Fill(ctx, id, active, time.Minute); err != nil {
			t.Fatal(err)
		}
		if st, ok, _ := c.Get(ctx, id); !ok || st.Status != auth.StatusRevoked {
			t.Fatalf("Fill overwrote a revocation: %+v", st)
		}
		if err := c.Set(ctx, id, auth.SessionState{Status: auth.StatusUserGone}, time.Minute); err != nil {
			t.Fatal(err)
		}
		if st, _, _ := c.Get(ctx, id); st.Status != auth.StatusUserGone {
			t.Fatalf("Set did not overwrite: %+v", st)
		}
		if err := c.Delete(ctx, id, uuid.New()); err != nil {
			t.Fatal(err)
		}
		if _, ok, _ := c.Get(ctx, id); ok {
			t.Fatal("Delete kept the entry")
		}
		if err := c.Delete(ctx); err != nil {
			t.Fatalf("Delete() = %v", err)
		}
	})
	t.Run("entries expire", func(t *testing.T) {
		c := newCache(t)
		id := uuid.New()
		if err := c.Set(ctx, id, auth.SessionState{Status: auth.StatusRevoked}, 50*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		// Read once before it expires: a copy kept by the reader must not
		// outlive the entry.
		if _, ok, err := c.Get(ctx, id); !ok || err != nil {
			t.Fatalf("Get before expiry: found %v, %v", ok, err)
		}
		time.Sleep(120 * time.Millisecond)
		if _, ok, _ := c.Get(ctx, id); ok {
			t.Fatal("entry outlived its TTL")
		}
	})
}
