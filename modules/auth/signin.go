package auth

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/lenticular/lenticular/modules/notify"
	"github.com/lenticular/lenticular/modules/users"
)

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
