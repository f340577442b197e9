package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/lenticular/lenticular/modules/users"
)

// Refresh rotates a refresh token.
//
// A token that was already rotated is a reuse. Inside REFRESH_REUSE_GRACE
// of its rotation (two tabs refreshing at once, a retried request whose
// answer was lost) the session stays alive and the caller gets a fresh pair:
// another child of the same token, with the session's current role. After
// the grace the whole session is revoked and ErrRefreshTokenReused returned.
func (s *Service) Refresh(ctx context.Context, raw string, c Client) (TokenPair, error) {
	if !strings.HasPrefix(raw, RefreshTokenPrefix) || len(raw) > 128 {
		return TokenPair{}, ErrInvalidRefreshToken
	}
	now := s.now()
	rt, err := s.d.Sessions.RefreshToken(ctx, HashToken(raw))
	if errors.Is(err, ErrRefreshTokenNotFound) {
		return TokenPair{}, ErrInvalidRefreshToken
	}
	if err != nil {
		return TokenPair{}, err
	}
	sess, err := s.d.Sessions.Get(ctx, rt.SessionID)
	if errors.Is(err, ErrSessionNotFound) {
		return TokenPair{}, ErrInvalidRefreshToken
	}
	if err != nil {
		return TokenPair{}, err
	}
	if !sess.Active(now) || !now.Before(rt.ExpiresAt) {
		return TokenPair{}, ErrInvalidRefreshToken
	}
	u, err := s.d.Users.ByID(ctx, sess.UserID)
	if errors.Is(err, users.ErrNotFound) || err == nil && !u.Usable() {
		return TokenPair{}, ErrInvalidRefreshToken
	}
	if err != nil {
		return TokenPair{}, err
	}
	if rt.RotatedAt != nil && now.Sub(*rt.RotatedAt) > s.cfg.ReuseGrace {
		return TokenPair{}, s.reused(ctx, sess)
	}
	nextRaw := randomToken(RefreshTokenPrefix)
	expires := now.Add(s.cfg.RefreshTTL)
	next := RefreshToken{Hash: HashToken(nextRaw), SessionID: sess.ID, Parent: rt.Hash, CreatedAt: now, ExpiresAt: expires}
	err = s.d.Tx.InTx(ctx, func(ctx context.Context) error {
		if rt.RotatedAt == nil {
			ok, err := s.d.Sessions.Rotate(ctx, rt.Hash, next, now)
			if err != nil || ok {
				return err
			}
			// Another request rotated it a moment ago: inside the grace.
		}
		if err := s.d.Sessions.AddRefreshToken(ctx, next); err != nil {
			return err
		}
		return s.d.Sessions.Touch(ctx, sess.ID, now, expires, c.IP, clip(c.UserAgent, 512))
	})
	if err != nil {
		return TokenPair{}, err
	}
	return s.pair(u, sess.ID, nextRaw)
}

func (s *Service) reused(ctx context.Context, sess Session) error {
	now := s.now()
	err := s.d.Sessions.Revoke(ctx, sess.UserID, sess.ID, "refresh_token_reused", now)
	if err != nil && !errors.Is(err, ErrSessionNotFound) {
		return err
	}
	s.markRevoked(ctx, StatusRevoked, sess.ID)
	s.event(ctx, "refresh_token_reused", "user_id", sess.UserID.String(), "session_id", sess.ID.String())
	return ErrRefreshTokenReused
}

// markRevoked writes revocations to the cache after they are durable, so
// every instance refuses the sessions' access tokens from now on. A cache
// failure is logged: the entries then expire or were never there, and the
// store answers.
func (s *Service) markRevoked(ctx context.Context, st Status, ids ...uuid.UUID) {
	ttl := s.d.Access.TTL() + time.Minute
	for _, id := range ids {
		if err := s.d.Cache.Set(ctx, id, SessionState{Status: st}, ttl); err != nil {
			s.d.Log.ErrorContext(ctx, "write session revocation to cache", "session_id", id.String(), "error", err)
			// Best effort: at least drop an "active" entry; and write the
			// revocation again as soon as the cache answers.
			_ = s.d.Cache.Delete(ctx, id)
			s.pending.add(id, SessionState{Status: st}, s.now().Add(ttl))
		}
	}
}

// Authenticate verifies an access token and its session: signature and
// claims first, then the session state from the cache, falling back to the
// store (and filling the cache) on a miss or a cache failure.
func (s *Service) Authenticate(ctx context.Context, token string) (Principal, error) {
	a, err := s.d.Access.Verify(token)
	if err != nil {
		return Principal{}, err
	}
	s.pending.replay(ctx, s.d.Cache, s.now())
	if st, ok := s.pending.get(a.SessionID, s.now()); ok && st.Status == StatusRevoked {
		return Principal{}, ErrSessionRevoked
	}
	st, found, err := s.d.Cache.Get(ctx, a.SessionID)
	if err != nil {
		s.d.Log.ErrorContext(ctx, "session cache unavailable, reading the store", "error", err)
		found = false
	}
	if !found {
		st, err = s.loadState(ctx, a.SessionID)
		if err != nil {
			return Principal{}, err
		}
	}
	switch {
	case st.Status == StatusRevoked:
		return Principal{}, ErrSessionRevoked
	case st.Status != StatusActive || st.UserID != a.UserID:
		return Principal{}, fmt.Errorf("%w: user disabled or deleted", ErrInvalidToken)
	}
	return Principal{UserID: a.UserID, SessionID: a.SessionID, Role: st.Role}, nil
}

func (s *Service) loadState(ctx context.Context, sid uuid.UUID) (SessionState, error) {
	st, err := s.d.Sessions.State(ctx, sid)
	if errors.Is(err, ErrSessionNotFound) {
		return SessionState{}, fmt.Errorf("%w: no such session", ErrInvalidToken)
	}
	if err != nil {
		return SessionState{}, err
	}
	ttl := s.cfg.CacheActiveTTL
	if st.Status != StatusActive {
		ttl = s.d.Access.TTL() + time.Minute
	}
	if err := s.d.Cache.Fill(ctx, sid, st, ttl); err != nil {
		s.d.Log.ErrorContext(ctx, "fill session cache", "error", err)
	}
	return st, nil
}

// Identify is the cheap check for per-user rate limiting: signature and
// expiry only, no session lookup. It returns "" for anything else.
func (s *Service) Identify(token string) string {
	a, err := s.d.Access.Verify(token)
	if err != nil {
		return ""
	}
	return a.UserID.String()
}

// Logout revokes the caller's session.
func (s *Service) Logout(ctx context.Context, p Principal) error {
	err := s.d.Sessions.Revoke(ctx, p.UserID, p.SessionID, "logout", s.now())
	if err != nil && !errors.Is(err, ErrSessionNotFound) {
		return err
	}
	s.markRevoked(ctx, StatusRevoked, p.SessionID)
	s.event(ctx, "session_revoked", "user_id", p.UserID.String(), "session_id", p.SessionID.String(), "reason", "logout")
	return nil
}

// LogoutAll revokes every session of the caller, the current one included.
func (s *Service) LogoutAll(ctx context.Context, p Principal) error {
	return s.revokeAll(ctx, p.UserID, uuid.Nil, "logout_all", StatusRevoked)
}

func (s *Service) revokeAll(ctx context.Context, user users.ID, keep uuid.UUID, reason string, st Status) error {
	ids, err := s.d.Sessions.RevokeAll(ctx, user, keep, reason, s.now())
	if err != nil {
		return err
	}
	s.afterRevokeAll(ctx, user, ids, reason, st)
	return nil
}

func (s *Service) afterRevokeAll(ctx context.Context, user users.ID, ids []uuid.UUID, reason string, st Status) {
	s.markRevoked(ctx, st, ids...)
	if len(ids) > 0 {
		s.event(ctx, "session_revoked", "user_id", user.String(), "sessions", len(ids), "reason", reason)
	}
}

// RevokeAllSessions implements users.SessionControl: disabling a user ends
// every session, and their tokens answer invalid_token.
func (s *Service) RevokeAllSessions(ctx context.Context, user users.ID, reason string) error {
	return s.revokeAll(ctx, user, uuid.Nil, reason, StatusUserGone)
}

// UserChanged implements users.SessionControl: drop the cached state of the
// user's sessions so their next request sees the new role.
func (s *Service) UserChanged(ctx context.Context, user users.ID) error {
	list, err := s.d.Sessions.ListActive(ctx, user, s.now())
	if err != nil {
		return err
	}
	ids := make([]uuid.UUID, len(list))
	for i, x := range list {
		ids[i] = x.ID
	}
	return s.d.Cache.Delete(ctx, ids...)
}

// Sessions lists the caller's active sessions.
func (s *Service) Sessions(ctx context.Context, p Principal) ([]Session, error) {
	return s.d.Sessions.ListActive(ctx, p.UserID, s.now())
}

// RevokeSession ends one of the caller's sessions; another user's session
// is ErrSessionNotFound, exactly like one that does not exist.
func (s *Service) RevokeSession(ctx context.Context, p Principal, id uuid.UUID) error {
	if err := s.d.Sessions.Revoke(ctx, p.UserID, id, "revoked_by_user", s.now()); err != nil {
		return err
	}
	s.markRevoked(ctx, StatusRevoked, id)
	s.event(ctx, "session_revoked", "user_id", p.UserID.String(), "session_id", id.String(), "reason", "revoked_by_user")
	return nil
}
