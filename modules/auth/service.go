// Package auth signs people in: password policy and hashing, sessions,
// access and refresh tokens, emailed single-use tokens, and the use cases
// of API.md "Authentication" (plus deleting one's account, which needs the
// password and ends every session).
//
// Security events are logged with the request's context so they carry its
// request id, client IP and user id; never a password or a token.
package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/lenticular/lenticular/modules/notify"
	"github.com/lenticular/lenticular/modules/ratelimit"
	"github.com/lenticular/lenticular/modules/users"
)

// Config holds the durations and limits of the use cases.
type Config struct {
	RefreshTTL time.Duration // 30 days
	ReuseGrace time.Duration // REFRESH_REUSE_GRACE, 10 s
	// LoginFailures is RATE_LIMIT_LOGIN_FAILURES, counted per normalised
	// account identifier through the shared limiter.
	LoginFailures ratelimit.Limit
	VerifyTTL     time.Duration // 48 h
	ResetTTL      time.Duration // 1 h
	// ForgotMinDuration is the floor of every forgot-password answer, so an
	// existing and an unknown address take the same time.
	ForgotMinDuration time.Duration
	// CacheActiveTTL is how long an "active" session state may be served
	// from the cache before the store is read again (role changes and
	// user status flow in at least this often).
	CacheActiveTTL time.Duration
}

func (c *Config) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.RefreshTTL, 30*24*time.Hour)
	def(&c.VerifyTTL, 48*time.Hour)
	def(&c.ResetTTL, time.Hour)
	def(&c.ForgotMinDuration, 300*time.Millisecond)
	def(&c.CacheActiveTTL, time.Minute)
	if c.ReuseGrace < 0 {
		c.ReuseGrace = 0
	}
	if c.LoginFailures.Validate() != nil {
		c.LoginFailures = ratelimit.Limit{Rate: 10, Period: 15 * time.Minute}
	}
}

// Deps are the ports the use cases need.
type Deps struct {
	Users    users.Repository
	Sessions SessionStore
	Tokens   ActionTokenStore
	Cache    SessionCache
	Tx       users.Transactor
	Mail     notify.Queue
	Limiter  ratelimit.Limiter
	Hasher   *Hasher
	Access   *Tokens
	Log      *slog.Logger
	Now      func() time.Time
}

// Service is the authentication use cases.
type Service struct {
	d       Deps
	cfg     Config
	pending pendingRevocations
}

// NewService wires the use cases.
func NewService(d Deps, cfg Config) *Service {
	cfg.defaults()
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	return &Service{d: d, cfg: cfg}
}

func (s *Service) now() time.Time { return s.d.Now().UTC() }

// Client describes where a request came from, recorded on sessions.
type Client struct {
	IP        string
	UserAgent string
}

// TokenPair is what a sign-in returns.
type TokenPair struct {
	AccessToken  string
	RefreshToken string
	ExpiresIn    time.Duration
	SessionID    uuid.UUID
	User         users.User
}

// Principal is an authenticated caller.
type Principal struct {
	UserID    users.ID
	SessionID uuid.UUID
	Role      users.Role
}

// Actor is the principal as the users module sees it.
func (p Principal) Actor() users.Actor { return users.Actor{ID: p.UserID, Role: p.Role} }

func (s *Service) event(ctx context.Context, name string, args ...any) {
	s.d.Log.WarnContext(ctx, "security event", append([]any{"event", name}, args...)...)
}

// Registration is the input of Register.
type Registration struct {
	Email       string
	Password    string
	Username    *string
	DisplayName *string
}

// Register creates an account and its first session, and queues the
// verification email in the same transaction.
func (s *Service) Register(ctx context.Context, r Registration, c Client) (TokenPair, error) {
	email, err := users.ParseEmail(r.Email)
	if err != nil {
		return TokenPair{}, err
	}
	var username users.Username
	if r.Username != nil {
		if username, err = users.ParseUsername(*r.Username); err != nil {
			return TokenPair{}, err
		}
	}
	display := ""
	if r.DisplayName != nil {
		display = strings.TrimSpace(*r.DisplayName)
		if len([]rune(display)) > users.MaxDisplayName {
			return TokenPair{}, &users.FieldError{Field: "display_name", Code: "too_long", Message: "display_name must be at most 100 characters"}
		}
	}
	if err := CheckPassword("password", r.Password, email, username); err != nil {
		return TokenPair{}, err
	}
	hash, err := s.d.Hasher.Hash(ctx, r.Password)
	if err != nil {
		return TokenPair{}, err
	}
	now := s.now()
	u := users.User{
		ID: users.NewID(), Email: email, Username: username, DisplayName: display,
		Role: users.RoleUser, IsActive: true, PasswordHash: hash, PasswordChangedAt: &now,
		LastLoginAt: &now, CreatedAt: now, UpdatedAt: now,
	}
	var pair TokenPair
	err = s.d.Tx.InTx(ctx, func(ctx context.Context) error {
		if err := s.d.Users.Create(ctx, u); err != nil {
			return err
		}
		if err := s.sendVerification(ctx, u, now); err != nil {
			return err
		}
		pair, err = s.startSession(ctx, u, c, now)
		return err
	})
	if err != nil {
		return TokenPair{}, err
	}
	s.d.Log.InfoContext(ctx, "user registered", "user_id", u.ID.String())
	return pair, nil
}

func (s *Service) sendVerification(ctx context.Context, u users.User, now time.Time) error {
	raw := randomToken("")
	t := ActionToken{Hash: HashToken(raw), UserID: u.ID, Purpose: PurposeVerifyEmail, CreatedAt: now, ExpiresAt: now.Add(s.cfg.VerifyTTL)}
	if err := s.d.Tokens.Create(ctx, t); err != nil {
		return err
	}
	return s.d.Mail.Enqueue(ctx, notify.Email{To: u.Email.String(), Template: "verify_email", Data: mailData(u, raw)})
}

func mailData(u users.User, token string) map[string]string {
	d := map[string]string{}
	if token != "" {
		d["token"] = token
	}
	if name := u.DisplayName; name != "" {
		d["name"] = name
	} else if !u.Username.IsZero() {
		d["name"] = u.Username.String()
	}
	return d
}

// startSession creates a session with its first refresh token and signs an
// access token. It runs inside the caller's transaction.
func (s *Service) startSession(ctx context.Context, u users.User, c Client, now time.Time) (TokenPair, error) {
	sess := Session{
		ID: uuid.Must(uuid.NewV7()), UserID: u.ID, UserAgent: clip(c.UserAgent, 512), IP: c.IP,
		CreatedAt: now, LastUsedAt: now, ExpiresAt: now.Add(s.cfg.RefreshTTL),
	}
	raw := randomToken(RefreshTokenPrefix)
	rt := RefreshToken{Hash: HashToken(raw), SessionID: sess.ID, CreatedAt: now, ExpiresAt: sess.ExpiresAt}
	if err := s.d.Sessions.Create(ctx, sess, rt); err != nil {
		return TokenPair{}, err
	}
	return s.pair(u, sess.ID, raw)
}

func (s *Service) pair(u users.User, sid uuid.UUID, refresh string) (TokenPair, error) {
	access, _, err := s.d.Access.Issue(u.ID, sid, u.Role)
	if err != nil {
		return TokenPair{}, err
	}
	return TokenPair{AccessToken: access, RefreshToken: refresh, ExpiresIn: s.d.Access.TTL(), SessionID: sid, User: u}, nil
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}

// loginKey is the failed-login bucket of an identifier: its normalised
// email or username, whether or not such an account exists.
func loginKey(ident string) (string, users.Email, users.Username, bool) {
	ident = strings.TrimSpace(ident)
	if strings.Contains(ident, "@") {
		if e, err := users.ParseEmail(ident); err == nil {
			return "login:" + e.Normalized(), e, users.Username{}, true
		}
	} else if u, err := users.ParseUsername(ident); err == nil {
		return "login:" + u.Normalized(), users.Email{}, u, true
	}
	return "login:" + strings.ToLower(ident), users.Email{}, users.Username{}, false
}

// Login signs in with an email (or username) and password. Unknown
// accounts and wrong passwords give the same ErrInvalidCredentials after
// the same work (one hash). Each attempt counts against the account's
// RATE_LIMIT_LOGIN_FAILURES bucket and a success empties it, so only
// failures accumulate; a full bucket refuses with *LockedError before any
// password is checked.
func (s *Service) Login(ctx context.Context, ident, password string, c Client) (TokenPair, error) {
	key, email, username, parsed := loginKey(ident)
	if res, err := s.d.Limiter.Allow(ctx, key, s.cfg.LoginFailures); err != nil {
		s.d.Log.ErrorContext(ctx, "login failure limiter unavailable", "error", err)
	} else if !res.Allowed {
		s.event(ctx, "rate_limited", "policy", "login_failures")
		return TokenPair{}, &LockedError{RetryAfter: res.RetryAfter}
	}
	var (
		u   users.User
		err error
	)
	switch {
	case !parsed:
		err = users.ErrNotFound
	case !email.IsZero():
		u, err = s.d.Users.ByEmail(ctx, email)
	default:
		u, err = s.d.Users.ByUsername(ctx, username)
	}
	if errors.Is(err, users.ErrNotFound) {
		s.d.Hasher.Burn(ctx, password)
		s.event(ctx, "login_failed", "reason", "unknown_account")
		return TokenPair{}, ErrInvalidCredentials
	}
	if err != nil {
		return TokenPair{}, err
	}
	ok, rehash, err := s.d.Hasher.Verify(ctx, password, u.PasswordHash)
	if err != nil && !errors.Is(err, ErrUnknownHashFormat) {
		return TokenPair{}, err
	}
	if err != nil {
		s.d.Log.ErrorContext(ctx, "stored password hash unreadable", "user_id", u.ID.String(), "error", err)
	}
	if !ok {
		s.event(ctx, "login_failed", "user_id", u.ID.String(), "reason", "wrong_password")
		return TokenPair{}, ErrInvalidCredentials
	}
	if !u.IsActive {
		s.event(ctx, "login_failed", "user_id", u.ID.String(), "reason", "account_disabled")
		return TokenPair{}, ErrAccountDisabled
	}
	if err := s.d.Limiter.Reset(ctx, key); err != nil {
		s.d.Log.ErrorContext(ctx, "reset login failure counter", "error", err)
	}
	newHash := ""
	if rehash {
		if newHash, err = s.d.Hasher.Hash(ctx, password); err != nil {
			return TokenPair{}, err
		}
	}
	now := s.now()
	var pair TokenPair
	err = s.d.Tx.InTx(ctx, func(ctx context.Context) error {
		u, err = s.d.Users.Update(ctx, u.ID, func(x *users.User) error {
			x.LastLoginAt = &now
			if newHash != "" {
				x.PasswordHash = newHash
			}
			return nil
		})
		if err != nil {
			return err
		}
		pair, err = s.startSession(ctx, u, c, now)
		return err
	})
	if err != nil {
		return TokenPair{}, err
	}
	s.event(ctx, "login_succeeded", "user_id", u.ID.String(), "session_id", pair.SessionID.String(), "rehashed", newHash != "")
	return pair, nil
}

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

// ChangePassword replaces the caller's password after checking the
// current one; every other session is revoked and the account's address
// gets a notice.
func (s *Service) ChangePassword(ctx context.Context, p Principal, current, next string) error {
	u, err := s.d.Users.ByID(ctx, p.UserID)
	if err != nil {
		return err
	}
	ok, _, err := s.d.Hasher.Verify(ctx, current, u.PasswordHash)
	if err != nil && !errors.Is(err, ErrUnknownHashFormat) {
		return err
	}
	if !ok {
		s.event(ctx, "password_change_failed", "user_id", u.ID.String(), "reason", "wrong_current_password")
		return &users.FieldError{Field: "current_password", Code: "incorrect", Message: "the current password is incorrect"}
	}
	if err := CheckPassword("new_password", next, u.Email, u.Username); err != nil {
		return err
	}
	hash, err := s.d.Hasher.Hash(ctx, next)
	if err != nil {
		return err
	}
	var revoked []uuid.UUID
	now := s.now()
	err = s.d.Tx.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.d.Users.Update(ctx, u.ID, func(x *users.User) error {
			x.PasswordHash, x.PasswordChangedAt = hash, &now
			return nil
		}); err != nil {
			return err
		}
		if err := s.d.Tokens.InvalidateAll(ctx, u.ID, PurposeResetPassword, now); err != nil {
			return err
		}
		if revoked, err = s.d.Sessions.RevokeAll(ctx, u.ID, p.SessionID, "password_changed", now); err != nil {
			return err
		}
		return s.d.Mail.Enqueue(ctx, notify.Email{To: u.Email.String(), Template: "password_changed", Data: mailData(u, "")})
	})
	if err != nil {
		return err
	}
	s.afterRevokeAll(ctx, u.ID, revoked, "password_changed", StatusRevoked)
	s.event(ctx, "password_changed", "user_id", u.ID.String())
	return nil
}

// ForgotPassword queues a reset email to the address stored on the
// account the submitted address normalises to, at most one per account per
// minute. It answers the same way, no sooner than ForgotMinDuration,
// whether or not the account exists.
func (s *Service) ForgotPassword(ctx context.Context, address string) error {
	floor := time.NewTimer(s.cfg.ForgotMinDuration)
	defer func() {
		select {
		case <-floor.C:
		case <-ctx.Done():
		}
	}()
	email, err := users.ParseEmail(address)
	if err != nil {
		return err
	}
	u, err := s.d.Users.ByEmail(ctx, email)
	if errors.Is(err, users.ErrNotFound) {
		s.event(ctx, "password_reset_requested", "outcome", "unknown_account")
		return nil
	}
	if err != nil {
		return err
	}
	if !u.IsActive {
		s.event(ctx, "password_reset_requested", "user_id", u.ID.String(), "outcome", "account_disabled")
		return nil
	}
	res, err := s.d.Limiter.Allow(ctx, "reset-mail:"+u.ID.String(), ratelimit.Limit{Rate: 1, Period: time.Minute})
	if err != nil {
		return err
	}
	if !res.Allowed {
		s.event(ctx, "password_reset_requested", "user_id", u.ID.String(), "outcome", "throttled")
		return nil
	}
	now := s.now()
	raw := randomToken("")
	err = s.d.Tx.InTx(ctx, func(ctx context.Context) error {
		t := ActionToken{Hash: HashToken(raw), UserID: u.ID, Purpose: PurposeResetPassword, CreatedAt: now, ExpiresAt: now.Add(s.cfg.ResetTTL)}
		if err := s.d.Tokens.Create(ctx, t); err != nil {
			return err
		}
		return s.d.Mail.Enqueue(ctx, notify.Email{To: u.Email.String(), Template: "reset_password", Data: mailData(u, raw)})
	})
	if err != nil {
		return err
	}
	s.event(ctx, "password_reset_requested", "user_id", u.ID.String(), "outcome", "sent")
	return nil
}

// ResetPassword sets a new password with an emailed reset token (single
// use, ResetTTL). Every session is revoked; the address is thereby proven
// and marked verified.
func (s *Service) ResetPassword(ctx context.Context, raw, next string) error {
	hash := HashToken(raw)
	t, err := s.d.Tokens.Find(ctx, hash, PurposeResetPassword)
	if err != nil {
		return err
	}
	if !s.now().Before(t.ExpiresAt) {
		return ErrActionTokenInvalid
	}
	u, err := s.d.Users.ByID(ctx, t.UserID)
	if errors.Is(err, users.ErrNotFound) || err == nil && !u.IsActive {
		return ErrActionTokenInvalid
	}
	if err != nil {
		return err
	}
	if err := CheckPassword("new_password", next, u.Email, u.Username); err != nil {
		return err
	}
	pwHash, err := s.d.Hasher.Hash(ctx, next)
	if err != nil {
		return err
	}
	var revoked []uuid.UUID
	now := s.now()
	err = s.d.Tx.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.d.Tokens.Consume(ctx, hash, PurposeResetPassword, now); err != nil {
			return err
		}
		if err := s.d.Tokens.InvalidateAll(ctx, u.ID, PurposeResetPassword, now); err != nil {
			return err
		}
		if _, err := s.d.Users.Update(ctx, u.ID, func(x *users.User) error {
			x.PasswordHash, x.PasswordChangedAt = pwHash, &now
			if x.EmailVerifiedAt == nil {
				x.EmailVerifiedAt = &now
			}
			return nil
		}); err != nil {
			return err
		}
		if revoked, err = s.d.Sessions.RevokeAll(ctx, u.ID, uuid.Nil, "password_reset", now); err != nil {
			return err
		}
		return s.d.Mail.Enqueue(ctx, notify.Email{To: u.Email.String(), Template: "password_changed", Data: mailData(u, "")})
	})
	if err != nil {
		return err
	}
	s.afterRevokeAll(ctx, u.ID, revoked, "password_reset", StatusRevoked)
	s.event(ctx, "password_reset_completed", "user_id", u.ID.String())
	return nil
}

// VerifyEmail consumes a verification token and marks the address verified.
func (s *Service) VerifyEmail(ctx context.Context, raw string) error {
	now := s.now()
	return s.d.Tx.InTx(ctx, func(ctx context.Context) error {
		t, err := s.d.Tokens.Consume(ctx, HashToken(raw), PurposeVerifyEmail, now)
		if err != nil {
			return err
		}
		_, err = s.d.Users.Update(ctx, t.UserID, func(x *users.User) error {
			if x.EmailVerifiedAt == nil {
				x.EmailVerifiedAt = &now
			}
			return nil
		})
		if errors.Is(err, users.ErrNotFound) {
			return ErrActionTokenInvalid
		}
		return err
	})
}

// ResendVerification queues another verification email (at most one a
// minute; nothing when the address is already verified).
func (s *Service) ResendVerification(ctx context.Context, p Principal) error {
	u, err := s.d.Users.ByID(ctx, p.UserID)
	if err != nil || u.EmailVerifiedAt != nil {
		return err
	}
	res, err := s.d.Limiter.Allow(ctx, "verify-mail:"+u.ID.String(), ratelimit.Limit{Rate: 1, Period: time.Minute})
	if err != nil || !res.Allowed {
		return err
	}
	now := s.now()
	return s.d.Tx.InTx(ctx, func(ctx context.Context) error { return s.sendVerification(ctx, u, now) })
}

// DeleteAccount erases the caller's account after checking the password:
// personal data is removed, the email and username become free, every
// session is revoked (its tokens then answer invalid_token).
func (s *Service) DeleteAccount(ctx context.Context, p Principal, password string) error {
	u, err := s.d.Users.ByID(ctx, p.UserID)
	if err != nil {
		return err
	}
	ok, _, err := s.d.Hasher.Verify(ctx, password, u.PasswordHash)
	if err != nil && !errors.Is(err, ErrUnknownHashFormat) {
		return err
	}
	if !ok {
		return &users.FieldError{Field: "password", Code: "incorrect", Message: "the password is incorrect"}
	}
	if u.Role == users.RoleAdmin && u.IsActive {
		n, err := s.d.Users.CountActiveAdmins(ctx)
		if err != nil {
			return err
		}
		if n <= 1 {
			return users.ErrLastAdmin
		}
	}
	now := s.now()
	var revoked []uuid.UUID
	err = s.d.Tx.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.d.Users.Update(ctx, u.ID, func(x *users.User) error {
			Erase(x, now)
			return nil
		}); err != nil {
			return err
		}
		for _, purpose := range []Purpose{PurposeVerifyEmail, PurposeResetPassword} {
			if err := s.d.Tokens.InvalidateAll(ctx, u.ID, purpose, now); err != nil {
				return err
			}
		}
		revoked, err = s.d.Sessions.RevokeAll(ctx, u.ID, uuid.Nil, "account_deleted", now)
		return err
	})
	if err != nil {
		return err
	}
	s.afterRevokeAll(ctx, u.ID, revoked, "account_deleted", StatusUserGone)
	s.d.Log.InfoContext(ctx, "account deleted", "user_id", u.ID.String())
	return nil
}

// Erase removes the personal data of an account and frees its email and
// username: the address becomes a non-deliverable placeholder under the
// reserved .invalid domain.
func Erase(u *users.User, now time.Time) {
	placeholder := "deleted-" + u.ID.String() + "@deleted.invalid"
	u.Email = users.RestoreEmail(placeholder, placeholder)
	u.Username = users.Username{}
	u.DisplayName, u.AvatarURL, u.Bio = "", "", ""
	u.Metadata = nil
	u.PasswordHash = ""
	u.IsActive = false
	u.DeletedAt = &now
}

// CreateAdmin creates an administrator (the `lenticular admin create`
// command). The operator vouches for the address, so it is marked verified.
func (s *Service) CreateAdmin(ctx context.Context, address, password string) (users.User, error) {
	email, err := users.ParseEmail(address)
	if err != nil {
		return users.User{}, err
	}
	if err := CheckPassword("password", password, email, users.Username{}); err != nil {
		return users.User{}, err
	}
	hash, err := s.d.Hasher.Hash(ctx, password)
	if err != nil {
		return users.User{}, err
	}
	now := s.now()
	u := users.User{
		ID: users.NewID(), Email: email, Role: users.RoleAdmin, IsActive: true, PasswordHash: hash,
		PasswordChangedAt: &now, EmailVerifiedAt: &now, CreatedAt: now, UpdatedAt: now,
	}
	if err := s.d.Users.Create(ctx, u); err != nil {
		return users.User{}, err
	}
	return u, nil
}
