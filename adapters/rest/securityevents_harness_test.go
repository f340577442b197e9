package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/lenticular/lenticular/adapters/memory"
	"github.com/lenticular/lenticular/modules/auth"
	"github.com/lenticular/lenticular/modules/ratelimit"
	"github.com/lenticular/lenticular/modules/users"
	"github.com/lenticular/lenticular/platform/config"
	"github.com/lenticular/lenticular/platform/logging"
)

// eventClientIP is the client address every request of the end-to-end
// security-event tests comes from (no trusted proxy: the peer is the client).
const eventClientIP = "203.0.113.77"

// lockedBuffer is a log destination safe for concurrent writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// eventHarness is the real router with the account routes on in-memory
// adapters, logging JSON lines through the app's context-aware logger
// (logging.WithContext + LogAttrs, as platform/app wires it).
type eventHarness struct {
	t      *testing.T
	h      http.Handler
	logs   *lockedBuffer
	outbox *memory.Outbox
	users  *memory.Users
	// secrets are every credential the test sent or received, by label;
	// none may appear anywhere in the log.
	secrets map[string]string
}

func newEventHarness(t *testing.T, vars map[string]string) *eventHarness {
	t.Helper()
	all := map[string]string{
		"APP_ENV": "test", "JWT_SECRET": testSecret,
		"RATE_LIMIT_AUTH": "1000/m", "RATE_LIMIT_ANON": "10000/m", "RATE_LIMIT_USER": "10000/m",
	}
	for k, v := range vars {
		all[k] = v
	}
	cfg, err := config.LoadFrom(all)
	if err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuffer{}
	log := slog.New(logging.WithContext(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}), LogAttrs))
	repo := memory.NewUsers()
	outbox := memory.NewOutbox()
	limiter := memory.NewLimiter()
	access, err := auth.NewTokens(auth.TokenConfig{Secret: []byte(testSecret), Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience, TTL: cfg.AccessTokenTTL}, nil)
	if err != nil {
		t.Fatal(err)
	}
	svc := auth.NewService(auth.Deps{
		Users: repo, Sessions: memory.NewSessions(repo), Tokens: memory.NewActionTokens(), Cache: memory.NewSessionCache(),
		Tx: memory.Tx{}, Mail: outbox, Limiter: limiter,
		Hasher: auth.NewHasher(auth.Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}),
		Access: access, Log: log,
	}, auth.Config{
		RefreshTTL: cfg.RefreshTokenTTL, ReuseGrace: cfg.RefreshReuseGrace,
		LoginFailures: ratelimit.Limit{Rate: cfg.RateLimitLoginFailures.Count, Period: cfg.RateLimitLoginFailures.Window},
	})
	routes := &AccountRoutes{
		Auth: svc, Users: users.NewService(repo, memory.Tx{}, svc, log), Limiter: limiter, Log: log,
		Settings: AccountSettings{
			AccessTTL: cfg.AccessTokenTTL, RefreshTTL: cfg.RefreshTokenTTL,
			AuthLimit: ratelimit.Limit{Rate: cfg.RateLimitAuth.Count, Period: cfg.RateLimitAuth.Window},
		},
	}
	engine, _ := NewRouter(Deps{
		Config: cfg, Logger: log, Version: "test", Limiter: limiter,
		Routes: []Routes{routes}, Authenticator: svc, Identify: IdentifyCaller(svc),
	})
	return &eventHarness{t: t, h: engine, logs: logs, outbox: outbox, users: repo, secrets: map[string]string{}}
}

// secret records a credential that must never be logged.
func (e *eventHarness) secret(label, v string) {
	e.t.Helper()
	if v == "" {
		e.t.Fatalf("secret %s is empty", label)
	}
	e.secrets[label] = v
}

// do sends a request from eventClientIP; headers are name, value pairs.
// The server assigns the request id (X-Request-ID of the response).
func (e *eventHarness) do(method, path string, body any, headers ...string) *httptest.ResponseRecorder {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req := httptest.NewRequestWithContext(context.Background(), method, path, rd)
	req.RemoteAddr = eventClientIP + ":40123"
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, req)
	if w.Header().Get(HeaderRequestID) == "" {
		e.t.Fatalf("%s %s: no %s on the response", method, path, HeaderRequestID)
	}
	return w
}

// expect fails unless w has the status.
func (e *eventHarness) expect(what string, w *httptest.ResponseRecorder, status int) map[string]any {
	e.t.Helper()
	var m map[string]any
	_ = json.Unmarshal(w.Body.Bytes(), &m)
	if w.Code != status {
		e.t.Fatalf("%s: status %d, want %d: %s", what, w.Code, status, w.Body)
	}
	return m
}

// eventAccount is a registered user and what the test knows of it.
type eventAccount struct {
	email, password, id string
	access, refresh     string
	cookies             map[string]string // cookie mode: lt_access, lt_refresh, lt_csrf
}

// register creates an account (tokens in the body) and records its
// password and tokens as secrets.
func (e *eventHarness) register(email, password string) *eventAccount {
	e.t.Helper()
	m := e.expect("register", e.do(http.MethodPost, "/v1/auth/register", map[string]any{"email": email, "password": password}), http.StatusCreated)
	a := &eventAccount{email: email, password: password}
	a.access, _ = m["access_token"].(string)
	a.refresh, _ = m["refresh_token"].(string)
	u, _ := m["user"].(map[string]any)
	a.id, _ = u["id"].(string)
	e.secret("password of "+email, password)
	e.secret("access token of "+email, a.access)
	e.secret("refresh token of "+email, a.refresh)
	if a.id == "" {
		e.t.Fatalf("register: no user id: %v", m)
	}
	return a
}

// registerCookie creates an account in cookie mode and records the cookie
// values as secrets.
func (e *eventHarness) registerCookie(email, password string) *eventAccount {
	e.t.Helper()
	w := e.do(http.MethodPost, "/v1/auth/register", map[string]any{"email": email, "password": password}, TransportHeader, "cookie")
	m := e.expect("register (cookie)", w, http.StatusCreated)
	u, _ := m["user"].(map[string]any)
	a := &eventAccount{email: email, password: password, cookies: map[string]string{}}
	a.id, _ = u["id"].(string)
	for _, c := range w.Result().Cookies() {
		a.cookies[c.Name] = c.Value
	}
	e.secret("password of "+email, password)
	for _, name := range []string{AccessCookie, RefreshCookie, CSRFCookie} {
		e.secret("cookie "+name+" of "+email, a.cookies[name])
	}
	return a
}

// cookieHeader is the Cookie header a browser would send for a.
func (a *eventAccount) cookieHeader() string {
	return AccessCookie + "=" + a.cookies[AccessCookie] + "; " + RefreshCookie + "=" + a.cookies[RefreshCookie] + "; " +
		CSRFCookie + "=" + a.cookies[CSRFCookie]
}

// login signs in again (a second session) and records the new tokens.
func (e *eventHarness) login(a *eventAccount) (access, refresh string) {
	e.t.Helper()
	m := e.expect("login", e.do(http.MethodPost, "/v1/auth/login", map[string]any{"email": a.email, "password": a.password}), http.StatusOK)
	access, _ = m["access_token"].(string)
	refresh, _ = m["refresh_token"].(string)
	e.secret("second access token of "+a.email, access)
	e.secret("second refresh token of "+a.email, refresh)
	return access, refresh
}

// resetToken is the token of the last reset email queued to address.
func (e *eventHarness) resetToken(address string) string {
	e.t.Helper()
	mail, ok := e.outbox.Last(address, "reset_password")
	if !ok {
		e.t.Fatalf("no reset email queued to %s", address)
	}
	tok := mail.Data["token"]
	e.secret("reset token of "+address, tok)
	return tok
}

// logRecord is one decoded log line, with the keys that occur more than once.
type logRecord struct {
	line string
	rec  map[string]any
	dups []string
}

// records decodes every line of the log; a line that is not one JSON
// object fails the test.
func (e *eventHarness) records() []logRecord {
	e.t.Helper()
	var out []logRecord
	for _, line := range strings.Split(strings.TrimSpace(e.logs.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			e.t.Fatalf("log line is not JSON: %q", line)
		}
		out = append(out, logRecord{line: line, rec: rec, dups: duplicateKeys(line)})
	}
	return out
}

// duplicateKeys lists the top-level keys a JSON object line repeats
// (json.Unmarshal silently keeps the last one).
func duplicateKeys(line string) []string {
	dec := json.NewDecoder(strings.NewReader(line))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil
	}
	seen := map[string]bool{}
	var dups []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return dups
		}
		k, _ := tok.(string)
		if seen[k] {
			dups = append(dups, k)
		}
		seen[k] = true
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return dups
		}
	}
	return dups
}

// tamper changes one character in the middle of a JWT's signature, so the
// token keeps its shape but no longer verifies.
func tamper(tok string) string {
	i := strings.LastIndexByte(tok, '.') + (len(tok)-strings.LastIndexByte(tok, '.'))/2
	c := byte('A')
	if tok[i] == 'A' {
		c = 'B'
	}
	return tok[:i] + string(c) + tok[i+1:]
}
