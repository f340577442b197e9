package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/lenticular/lenticular/modules/users"
)

// AccessClaims are the claims of an access token (API.md "Authentication").
type AccessClaims struct {
	jwt.RegisteredClaims
	SessionID string `json:"sid"`
	Role      string `json:"role"`
}

// Access is a verified access token.
type Access struct {
	UserID    users.ID
	SessionID uuid.UUID
	Role      users.Role
	ExpiresAt time.Time
}

// TokenConfig configures access tokens.
type TokenConfig struct {
	Secret   []byte
	Issuer   string
	Audience string
	TTL      time.Duration
}

// Tokens issues and verifies HS256 access tokens.
type Tokens struct {
	cfg      TokenConfig
	now      func() time.Time
	parser   *jwt.Parser
	verified verifiedCache
}

// forbiddenHeaders are JOSE headers this server never issues; a token that
// carries one was not made here, whatever its signature says.
var forbiddenHeaders = []string{"kid", "jku", "x5u", "x5c", "x5t", "jwk", "crit"}

// NewTokens returns the access-token codec. now may be nil (time.Now).
func NewTokens(cfg TokenConfig, now func() time.Time) (*Tokens, error) {
	if len(cfg.Secret) < 32 {
		return nil, errors.New("JWT secret must be at least 32 bytes")
	}
	if now == nil {
		now = time.Now
	}
	t := &Tokens{cfg: cfg, now: now}
	t.parser = jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(cfg.Issuer),
		jwt.WithAudience(cfg.Audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(func() time.Time { return t.now() }),
	)
	return t, nil
}

// TTL is the lifetime of an access token.
func (t *Tokens) TTL() time.Duration { return t.cfg.TTL }

// Issue signs an access token for a session.
func (t *Tokens) Issue(user users.ID, session uuid.UUID, role users.Role) (string, time.Time, error) {
	now := t.now().UTC().Truncate(time.Second)
	exp := now.Add(t.cfg.TTL)
	claims := AccessClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    t.cfg.Issuer,
			Audience:  jwt.ClaimStrings{t.cfg.Audience},
			Subject:   user.String(),
			ID:        uuid.Must(uuid.NewV7()).String(),
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(exp),
		},
		SessionID: session.String(),
		Role:      string(role),
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(t.cfg.Secret)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign access token: %w", err)
	}
	return s, exp, nil
}

// Verify checks signature, algorithm, issuer, audience, expiry and the
// claims this server always sets. Every failure is ErrInvalidToken.
func (t *Tokens) Verify(token string) (Access, error) {
	if len(token) > 4096 {
		return Access{}, ErrInvalidToken
	}
	if a, ok := t.verified.get(token); ok {
		// Everything but the expiry was true of these exact bytes
		// already, under the same secret.
		if t.now().Before(a.ExpiresAt) {
			return a, nil
		}
		return Access{}, fmt.Errorf("%w: token has expired", ErrInvalidToken)
	}
	var c AccessClaims
	_, err := t.parser.ParseWithClaims(token, &c, func(tok *jwt.Token) (any, error) {
		for _, h := range forbiddenHeaders {
			if _, ok := tok.Header[h]; ok {
				return nil, fmt.Errorf("unexpected %q header", h)
			}
		}
		return t.cfg.Secret, nil
	})
	if err != nil {
		return Access{}, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	uid, err1 := users.ParseID(c.Subject)
	sid, err2 := uuid.Parse(c.SessionID)
	role, err3 := users.ParseRole(c.Role)
	if err1 != nil || err2 != nil || err3 != nil || c.ID == "" {
		return Access{}, fmt.Errorf("%w: missing or malformed claims", ErrInvalidToken)
	}
	a := Access{UserID: uid, SessionID: sid, Role: role, ExpiresAt: c.ExpiresAt.Time}
	t.verified.put(token, a)
	return a, nil
}

// verifiedCache remembers tokens that passed Verify: a client sends the
// same token with every request until it expires, and decoding and checking
// it again was most of an authenticated request's CPU. Two generations
// bound its size without a third-party cache (modules take none): when the
// current map is full it becomes the previous one and the oldest entries go.
type verifiedCache struct {
	mu        sync.RWMutex
	cur, prev map[string]Access
}

const verifiedGeneration = 8192

func (c *verifiedCache) get(token string) (Access, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if a, ok := c.cur[token]; ok {
		return a, true
	}
	a, ok := c.prev[token]
	return a, ok
}

func (c *verifiedCache) put(token string, a Access) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur == nil || len(c.cur) >= verifiedGeneration {
		c.prev, c.cur = c.cur, make(map[string]Access, verifiedGeneration)
	}
	c.cur[token] = a
}

// randomToken returns 32 random bytes, base64url without padding (43
// characters, 256 bits), with prefix.
func randomToken(prefix string) string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

// HashToken is how opaque tokens are stored: hex SHA-256.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// RefreshTokenPrefix marks refresh tokens (secret scanners can spot them).
const RefreshTokenPrefix = "ltr_"
