package app

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"go.uber.org/fx"

	"github.com/lenticular/lenticular/modules/auth"
	"github.com/lenticular/lenticular/platform/testenv"
)

// cheapHasher keeps the composed-app tests fast.
var cheapHasher = fx.Decorate(func(*auth.Hasher) *auth.Hasher {
	return auth.NewHasher(auth.Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32})
})

func send(t *testing.T, method, url string, body any, headers ...string) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, raw := doChecked(t, req)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return res.StatusCode, m
}

// Two instances on one PostgreSQL and one Redis behave as one: a logout on
// one is refused on the other at once, failed logins count together, and a
// revocation outlives the cache.
func TestAccountsAcrossInstances(t *testing.T) {
	vars := map[string]string{
		"DATABASE_URL":              testenv.FreshPostgres(t),
		"REDIS_URL":                 testenv.RedisURL(t),
		"RATE_LIMIT_LOGIN_FAILURES": "3/15m",
		"RATE_LIMIT_AUTH":           "1000/m",
	}
	_, a := startApp(t, testConfig(t, vars), cheapHasher)
	_, b := startApp(t, testConfig(t, vars), cheapHasher)

	// Failed-login buckets live in Redis across runs: a fresh address each run.
	email := "multi-" + strings.ToLower(rand.Text()) + "@example.com"
	status, m := send(t, "POST", a+"/v1/auth/register", map[string]any{"email": email, "password": "correct horse battery"})
	if status != 201 {
		t.Fatalf("register on A = %d %v", status, m)
	}
	access := m["access_token"].(string)
	if status, m := send(t, "GET", b+"/v1/users/me", nil, "Authorization", "Bearer "+access); status != 200 {
		t.Fatalf("token from A on B = %d %v", status, m)
	}
	// B now keeps the session and the account in process (near caches); a
	// change made through A is what B answers as soon as A has answered.
	for i := range 3 {
		name := fmt.Sprintf("Name %d", i)
		if status, m := send(t, "PATCH", a+"/v1/users/me", map[string]any{"display_name": name}, "Authorization", "Bearer "+access); status != 200 {
			t.Fatalf("PATCH on A = %d %v", status, m)
		}
		if status, m := send(t, "GET", b+"/v1/users/me", nil, "Authorization", "Bearer "+access); status != 200 || m["display_name"] != name {
			t.Fatalf("GET /v1/users/me on B right after the change on A = %d %v, want display_name %q", status, m, name)
		}
	}
	if status, m := send(t, "POST", a+"/v1/auth/logout", nil, "Authorization", "Bearer "+access); status != 204 {
		t.Fatalf("logout on A = %d %v", status, m)
	}
	if status, m := send(t, "GET", b+"/v1/users/me", nil, "Authorization", "Bearer "+access); status != 401 || m["code"] != "session_revoked" {
		t.Fatalf("logged-out token on B = %d %v, want 401 session_revoked", status, m)
	}

	// The revocation is durable: with the cache entry gone (Redis lost its
	// data), the session row still refuses the token.
	opts, _ := redis.ParseURL(vars["REDIS_URL"])
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	if err := rdb.Del(context.Background(), "lt:sess:"+sessionID(t, access)).Err(); err != nil {
		t.Fatal(err)
	}
	if status, m := send(t, "GET", b+"/v1/users/me", nil, "Authorization", "Bearer "+access); status != 401 || m["code"] != "session_revoked" {
		t.Fatalf("after cache loss = %d %v, want 401 session_revoked", status, m)
	}

	// Failed logins are counted across instances: 2 on A, 1 on B, then even
	// the right password is refused on either.
	for i, base := range []string{a, a, b} {
		if status, m := send(t, "POST", base+"/v1/auth/login", map[string]any{"email": email, "password": "wrong password!"}); status != 401 {
			t.Fatalf("failure %d = %d %v", i, status, m)
		}
	}
	for _, base := range []string{a, b} {
		if status, m := send(t, "POST", base+"/v1/auth/login", map[string]any{"email": strings.ToUpper(email), "password": "correct horse battery"}); status != 429 {
			t.Fatalf("login after 3 shared failures = %d %v, want 429", status, m)
		}
	}
}

func sessionID(t *testing.T, jwt string) string {
	t.Helper()
	parts := strings.Split(jwt, ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Sid string `json:"sid"`
	}
	_ = json.Unmarshal(raw, &c)
	return c.Sid
}

// The embedded default (SQLite, in-process cache and limiter) serves the
// account endpoints too.
func TestAccountsEmbedded(t *testing.T) {
	_, base := startApp(t, testConfig(t, nil), cheapHasher)
	status, m := send(t, "POST", base+"/v1/auth/register", map[string]any{"email": "e@example.com", "password": "correct horse battery"})
	if status != 201 {
		t.Fatalf("register = %d %v", status, m)
	}
	tok := m["access_token"].(string)
	if status, m := send(t, "GET", base+"/v1/users/me", nil, "Authorization", "Bearer "+tok); status != 200 || m["email"] != "e@example.com" {
		t.Fatalf("me = %d %v", status, m)
	}
	_, _ = send(t, "POST", base+"/v1/auth/logout", nil, "Authorization", "Bearer "+tok)
	if status, m := send(t, "GET", base+"/v1/users/me", nil, "Authorization", "Bearer "+tok); status != 401 || m["code"] != "session_revoked" {
		t.Fatalf("after logout = %d %v", status, m)
	}
}
