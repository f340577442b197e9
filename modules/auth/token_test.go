package auth_test

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/lenticular/lenticular/modules/auth"
	"github.com/lenticular/lenticular/modules/users"
)

var secret = []byte("0123456789abcdef0123456789abcdef")

func newTokens(t *testing.T, now time.Time) *auth.Tokens {
	t.Helper()
	tk, err := auth.NewTokens(auth.TokenConfig{Secret: secret, Issuer: "lenticular", Audience: "lenticular-api", TTL: 15 * time.Minute},
		func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func claims(uid users.ID, sid uuid.UUID, now time.Time) jwt.MapClaims {
	return jwt.MapClaims{"iss": "lenticular", "aud": "lenticular-api", "sub": uid.String(), "sid": sid.String(),
		"jti": uuid.NewString(), "iat": now.Unix(), "exp": now.Add(time.Minute).Unix(), "role": "admin"}
}

// JWT attacks at the codec: every one is ErrInvalidToken (the HTTP tests
// check the 401 invalid_token answer for the same list).
func TestAccessTokenAttacks(t *testing.T) {
	t.Parallel()
	now := time.Now()
	tk := newTokens(t, now)
	uid, sid := users.NewID(), uuid.New()
	good, _, err := tk.Issue(uid, sid, users.RoleUser)
	if err != nil {
		t.Fatal(err)
	}
	a, err := tk.Verify(good)
	if err != nil || a.UserID != uid || a.SessionID != sid || a.Role != users.RoleUser {
		t.Fatalf("Verify(good) = %+v, %v", a, err)
	}
	sign := func(m jwt.SigningMethod, key any, c jwt.MapClaims, hdr map[string]any) string {
		tok := jwt.NewWithClaims(m, c)
		for k, v := range hdr {
			tok.Header[k] = v
		}
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	parts := strings.Split(good, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(payload), `"role":"user"`, `"role":"admin"`, 1))) + "." + parts[2]
	withClaim := func(k string, v any) jwt.MapClaims {
		c := claims(uid, sid, now)
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	attacks := map[string]string{
		"alg none":          sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, claims(uid, sid, now), nil),
		"HS512 right key":   sign(jwt.SigningMethodHS512, secret, claims(uid, sid, now), nil),
		"HS256 wrong key":   sign(jwt.SigningMethodHS256, []byte("another secret of thirty-two bytes!!"), claims(uid, sid, now), nil),
		"tampered payload":  tampered,
		"wrong issuer":      sign(jwt.SigningMethodHS256, secret, withClaim("iss", "evil"), nil),
		"wrong audience":    sign(jwt.SigningMethodHS256, secret, withClaim("aud", "other-api"), nil),
		"expired":           sign(jwt.SigningMethodHS256, secret, withClaim("exp", now.Add(-time.Second).Unix()), nil),
		"no exp":            sign(jwt.SigningMethodHS256, secret, withClaim("exp", nil), nil),
		"no sid":            sign(jwt.SigningMethodHS256, secret, withClaim("sid", nil), nil),
		"bad role":          sign(jwt.SigningMethodHS256, secret, withClaim("role", "root"), nil),
		"unknown kid":       sign(jwt.SigningMethodHS256, secret, claims(uid, sid, now), map[string]any{"kid": "attacker"}),
		"jku header":        sign(jwt.SigningMethodHS256, secret, claims(uid, sid, now), map[string]any{"jku": "https://evil/jwks"}),
		"x5u header":        sign(jwt.SigningMethodHS256, secret, claims(uid, sid, now), map[string]any{"x5u": "https://evil/cert"}),
		"jwk header":        sign(jwt.SigningMethodHS256, secret, claims(uid, sid, now), map[string]any{"jwk": map[string]any{"kty": "oct"}}),
		"refresh token":     auth.RefreshTokenPrefix + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"garbage":           "not.a.jwt",
		"issued in future":  sign(jwt.SigningMethodHS256, secret, withClaim("iat", now.Add(time.Hour).Unix()), nil),
		"empty":             "",
		"signature removed": parts[0] + "." + parts[1] + ".",
	}
	for name, tok := range attacks {
		if _, err := tk.Verify(tok); !errors.Is(err, auth.ErrInvalidToken) {
			t.Errorf("%s: Verify = %v, want ErrInvalidToken", name, err)
		}
	}
	// The token expires after the TTL.
	if _, err := newTokens(t, now.Add(16*time.Minute)).Verify(good); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("token accepted after its TTL: %v", err)
	}
}

func TestRefreshTokensAreOpaqueAndHashed(t *testing.T) {
	t.Parallel()
	h := auth.HashToken("ltr_x")
	if len(h) != 64 || h == "ltr_x" {
		t.Fatalf("HashToken = %q, want hex SHA-256", h)
	}
}

// Verify remembers tokens it accepted; a remembered token still expires,
// and a changed byte is verified afresh.
func TestVerifiedTokensStillExpire(t *testing.T) {
	t.Parallel()
	now := time.Now()
	tk, err := auth.NewTokens(auth.TokenConfig{Secret: secret, Issuer: "lenticular", Audience: "lenticular-api", TTL: time.Minute},
		func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	good, exp, err := tk.Issue(users.NewID(), uuid.New(), users.RoleUser)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second answer comes from memory
		if _, err := tk.Verify(good); err != nil {
			t.Fatalf("Verify(good) = %v", err)
		}
	}
	tampered := good[:len(good)-2] + map[bool]string{true: "AA", false: "AB"}[!strings.HasSuffix(good, "AA")]
	if _, err := tk.Verify(tampered); !errors.Is(err, auth.ErrInvalidToken) {
		t.Fatalf("Verify(tampered signature) = %v, want ErrInvalidToken", err)
	}
	now = exp
	if _, err := tk.Verify(good); !errors.Is(err, auth.ErrInvalidToken) {
		t.Fatalf("Verify(remembered token at its expiry) = %v, want ErrInvalidToken", err)
	}
}
