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
	"log/slog"
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
