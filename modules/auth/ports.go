package auth

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"

	"github.com/lenticular/lenticular/modules/users"
)

// Session is one sign-in: created by login or registration, kept alive by
// refresh, ended by logout, logout-all, a password change or reset, reuse
// of a rotated refresh token, disabling or deleting the user.
type Session struct {
	ID           uuid.UUID
	UserID       users.ID
	UserAgent    string
	IP           string
	CreatedAt    time.Time
	LastUsedAt   time.Time
	ExpiresAt    time.Time // slides with each refresh
	RevokedAt    *time.Time
	RevokeReason string
}

// Active reports whether s can still be used at now.
func (s Session) Active(now time.Time) bool { return s.RevokedAt == nil && now.Before(s.ExpiresAt) }

// RefreshToken is a stored refresh token: only the hash of the secret is
// kept. Rotation sets RotatedAt and inserts a child whose Parent is the
// rotated token's hash.
type RefreshToken struct {
	Hash      string
	SessionID uuid.UUID
	Parent    string // "" for the first token of a session
	CreatedAt time.Time
	ExpiresAt time.Time
	RotatedAt *time.Time
}

// SessionStore keeps sessions and their refresh tokens. Methods that act on
// someone's sessions take the owner, so a session id from a request can
// never reach another user's session.
type SessionStore interface {
	// Create stores a new session with its first refresh token.
	Create(ctx context.Context, s Session, first RefreshToken) error
	// Get returns a session by id (revoked or not) or ErrSessionNotFound.
	Get(ctx context.Context, id uuid.UUID) (Session, error)
	// ListActive returns owner's sessions that are neither revoked nor
	// expired at now, newest first.
	ListActive(ctx context.Context, owner users.ID, now time.Time) ([]Session, error)
	// Revoke revokes owner's session id; ErrSessionNotFound when it is not
	// owner's or already revoked.
	Revoke(ctx context.Context, owner users.ID, id uuid.UUID, reason string, at time.Time) error
	// RevokeAll revokes every unrevoked session of owner except keep (zero
	// for none) and returns the ids it revoked.
	RevokeAll(ctx context.Context, owner users.ID, keep uuid.UUID, reason string, at time.Time) ([]uuid.UUID, error)
	// Touch records use of a session: last_used_at, and when non-empty the
	// client's IP and user agent; expires (when not zero) extends it.
	Touch(ctx context.Context, id uuid.UUID, at, expires time.Time, ip, userAgent string) error
	// RefreshToken finds a token by hash or returns ErrRefreshTokenNotFound.
	RefreshToken(ctx context.Context, hash string) (RefreshToken, error)
	// Rotate marks old rotated at `at` and stores next, atomically, only if
	// old was not rotated yet; false means another request rotated it first.
	Rotate(ctx context.Context, old string, next RefreshToken, at time.Time) (bool, error)
	// AddRefreshToken stores another child of an already rotated token (the
	// answer to a re-presentation inside the reuse grace).
	AddRefreshToken(ctx context.Context, t RefreshToken) error
	// State is what the authentication hot path needs about a session, read
	// together with its user: ErrSessionNotFound when there is no such
	// session.
	State(ctx context.Context, id uuid.UUID) (SessionState, error)
}

// Purpose of a single-use emailed token.
type Purpose string

// Purposes of emailed tokens.
const (
	PurposeVerifyEmail   Purpose = "verify_email"
	PurposeResetPassword Purpose = "reset_password"
)

// ActionToken is an emailed single-use token; only its hash is stored.
type ActionToken struct {
	Hash      string
	UserID    users.ID
	Purpose   Purpose
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time
}

// ActionTokenStore keeps emailed tokens.
type ActionTokenStore interface {
	Create(ctx context.Context, t ActionToken) error
	// Find returns an unused token of purpose, or ErrActionTokenInvalid.
	Find(ctx context.Context, hash string, purpose Purpose) (ActionToken, error)
	// Consume marks an unused token used at `at` and returns it;
	// ErrActionTokenInvalid when it is unknown, of another purpose, already
	// used (also by a concurrent request), or expired at `at`.
	Consume(ctx context.Context, hash string, purpose Purpose, at time.Time) (ActionToken, error)
	// InvalidateAll marks every unused token of user and purpose used.
	InvalidateAll(ctx context.Context, user users.ID, purpose Purpose, at time.Time) error
}

// Status of a session as the authentication hot path sees it.
type Status byte

// Session statuses.
const (
	StatusActive   Status = 'a'
	StatusRevoked  Status = 'r' // logout, rotation reuse, password change: 401 session_revoked
	StatusUserGone Status = 'u' // the user is disabled or deleted: 401 invalid_token
)

// SessionState is the cached answer to "may this session's access tokens
// be used?", with the user's current role.
type SessionState struct {
	Status Status
	UserID users.ID
	Role   users.Role
}

// SessionCache keeps SessionStates where every instance sees them (Redis)
// or in process (embedded mode). It is a cache: the session row stays the
// durable truth, and a miss is answered from the store.
type SessionCache interface {
	Get(ctx context.Context, id uuid.UUID) (SessionState, bool, error)
	// Fill stores st only when id has no entry, so a slow reader can never
	// overwrite a revocation written meanwhile.
	Fill(ctx context.Context, id uuid.UUID, st SessionState, ttl time.Duration) error
	// Set stores st unconditionally (revocations).
	Set(ctx context.Context, id uuid.UUID, st SessionState, ttl time.Duration) error
	// Delete drops entries so the next request reads the store.
	Delete(ctx context.Context, ids ...uuid.UUID) error
}

// Domain errors; adapters/rest maps them.
var (
	ErrInvalidCredentials   = errors.New("invalid email or password")
	ErrAccountDisabled      = errors.New("account disabled")
	ErrInvalidToken         = errors.New("invalid access token")
	ErrSessionRevoked       = errors.New("session revoked")
	ErrInvalidRefreshToken  = errors.New("invalid refresh token")
	ErrRefreshTokenReused   = errors.New("refresh token reused; the session was revoked")
	ErrRefreshTokenNotFound = errors.New("refresh token not found")
	ErrSessionNotFound      = errors.New("session not found")
	ErrActionTokenInvalid   = errors.New("invalid or expired token")
)

// LockedError is a login refused because the account had too many failed
// attempts; it carries how long to wait.
type LockedError struct{ RetryAfter time.Duration }

func (e *LockedError) Error() string { return "too many failed logins for this account" }
