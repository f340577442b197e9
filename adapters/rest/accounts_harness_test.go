package rest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lenticular/lenticular/adapters/memory"
	"github.com/lenticular/lenticular/adapters/rest"
	"github.com/lenticular/lenticular/adapters/rest/openapitest"
	"github.com/lenticular/lenticular/modules/auth"
	"github.com/lenticular/lenticular/modules/ratelimit"
	"github.com/lenticular/lenticular/modules/users"
	"github.com/lenticular/lenticular/platform/config"
)

const accountsSecret = "0123456789abcdef0123456789abcdef-accounts"

// cheapArgon2 keeps HTTP tests fast; one test in modules/auth runs the
// real parameters.
var cheapArgon2 = auth.Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// logSink collects log records so tests can assert security events.
type logSink struct {
	mu      sync.Mutex
	records []map[string]any
}

func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for line := range bytes.SplitSeq(bytes.TrimSpace(p), []byte("\n")) {
		var m map[string]any
		if json.Unmarshal(line, &m) == nil {
			s.records = append(s.records, m)
		}
	}
	return len(p), nil
}

// events returns the records with event=name.
func (s *logSink) events(name string) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, r := range s.records {
		if r["event"] == name {
			out = append(out, r)
		}
	}
	return out
}

// all returns every record as one string (to check nothing secret leaked).
func (s *logSink) all() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, _ := json.Marshal(s.records)
	return string(b)
}

type harness struct {
	t       testing.TB
	srv     *httptest.Server
	v       *openapitest.Validator
	outbox  *memory.Outbox
	users   *memory.Users
	auth    *auth.Service
	logs    *logSink
	clock   *fakeClock
	handler http.Handler
}

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type harnessOpts struct {
	vars       map[string]string
	reuseGrace time.Duration
}

func newHarness(t testing.TB, o harnessOpts) *harness {
	t.Helper()
	vars := map[string]string{"APP_ENV": "test", "JWT_SECRET": accountsSecret, "RATE_LIMIT_AUTH": "1000/m", "RATE_LIMIT_ANON": "10000/m", "RATE_LIMIT_USER": "10000/m"}
	for k, v := range o.vars {
		vars[k] = v
	}
	cfg, err := config.LoadFrom(vars)
	if err != nil {
		t.Fatal(err)
	}
	sink := &logSink{}
	log := slog.New(slog.NewJSONHandler(sink, &slog.HandlerOptions{Level: slog.LevelDebug}))
	clock := &fakeClock{now: time.Now().UTC()}
	repo := memory.NewUsers()
	sessions := memory.NewSessions(repo)
	outbox := memory.NewOutbox()
	limiter := memory.NewLimiter()
	access, err := auth.NewTokens(auth.TokenConfig{Secret: []byte(accountsSecret), Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience, TTL: cfg.AccessTokenTTL}, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	svc := auth.NewService(auth.Deps{
		Users: repo, Sessions: sessions, Tokens: memory.NewActionTokens(), Cache: memory.NewSessionCache(),
		Tx: memory.Tx{}, Mail: outbox, Limiter: limiter, Hasher: auth.NewHasher(cheapArgon2), Access: access,
		Log: log, Now: clock.Now,
	}, auth.Config{
		ReuseGrace: o.reuseGrace, ForgotMinDuration: time.Millisecond,
		LoginFailures: ratelimit.Limit{Rate: cfg.RateLimitLoginFailures.Count, Period: cfg.RateLimitLoginFailures.Window},
	})
	us := users.NewService(repo, memory.Tx{}, svc, log)
	routes := &rest.AccountRoutes{
		Auth: svc, Users: us, Limiter: limiter, Log: log,
		Settings: rest.AccountSettings{
			AccessTTL: cfg.AccessTokenTTL, RefreshTTL: cfg.RefreshTokenTTL, CookieSecure: cfg.CookieSecure,
			CookieDomain: cfg.CookieDomain, AuthLimit: ratelimit.Limit{Rate: cfg.RateLimitAuth.Count, Period: cfg.RateLimitAuth.Window},
		},
	}
	engine, _ := rest.NewRouter(rest.Deps{
		Config: cfg, Logger: log, Version: "test", Limiter: limiter,
		Routes: []rest.Routes{routes}, Authenticator: svc, Identify: rest.IdentifyCaller(svc),
	})
	srv := httptest.NewServer(engine)
	t.Cleanup(srv.Close)
	return &harness{t: t, srv: srv, v: openapitest.Load(t, engine), outbox: outbox, users: repo, auth: svc, logs: sink, clock: clock, handler: engine}
}

// call sends a JSON request; headers are name, value pairs. The answer is
// validated against the OpenAPI document.
func (h *harness) call(client *http.Client, method, path string, body any, headers ...string) (*http.Response, map[string]any) {
	h.t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			h.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	var req *http.Request
	var err error
	if rd != nil {
		req, err = http.NewRequestWithContext(context.Background(), method, h.srv.URL+path, rd)
		req.Header.Set("Content-Type", "application/json")
	} else {
		req, err = http.NewRequestWithContext(context.Background(), method, h.srv.URL+path, nil)
	}
	if err != nil {
		h.t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	if client == nil {
		client = h.srv.Client()
	}
	res, raw := h.v.Do(h.t, client, req)
	var m map[string]any
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &m)
	}
	return res, m
}

func bearer(tok string) []string { return []string{"Authorization", "Bearer " + tok} }

// register creates an account and returns its tokens.
func (h *harness) register(email, password string, extra map[string]any) (access, refresh string, user map[string]any) {
	h.t.Helper()
	body := map[string]any{"email": email, "password": password}
	for k, v := range extra {
		body[k] = v
	}
	res, m := h.call(nil, "POST", "/v1/auth/register", body)
	if res.StatusCode != 201 {
		h.t.Fatalf("register %s = %d %v", email, res.StatusCode, m)
	}
	u, _ := m["user"].(map[string]any)
	return m["access_token"].(string), m["refresh_token"].(string), u
}

func (h *harness) login(ident, password string) (access, refresh string) {
	h.t.Helper()
	res, m := h.call(nil, "POST", "/v1/auth/login", map[string]any{"email": ident, "password": password})
	if res.StatusCode != 200 {
		h.t.Fatalf("login %s = %d %v", ident, res.StatusCode, m)
	}
	return m["access_token"].(string), m["refresh_token"].(string)
}

// makeAdmin promotes a user directly in the store (as `admin create` would
// create one).
func (h *harness) makeAdmin(id string) {
	h.t.Helper()
	uid, err := users.ParseID(id)
	if err != nil {
		h.t.Fatal(err)
	}
	if _, err := h.users.Update(context.Background(), uid, func(u *users.User) error { u.Role = users.RoleAdmin; return nil }); err != nil {
		h.t.Fatal(err)
	}
}

// jarClient is a browser-like client with a cookie jar.
func (h *harness) jarClient() *http.Client {
	jar, _ := cookiejar.New(nil)
	c := h.srv.Client()
	c.Jar = jar
	return c
}

func cookieValue(c *http.Client, h *harness, name string) string {
	for _, ck := range c.Jar.Cookies(mustURL(h.srv.URL + "/v1/auth/x")) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

func code(m map[string]any) string { s, _ := m["code"].(string); return s }

func fieldCodes(m map[string]any) string {
	var parts []string
	errs, _ := m["errors"].([]any)
	for _, e := range errs {
		f, _ := e.(map[string]any)
		parts = append(parts, f["field"].(string)+":"+f["code"].(string))
	}
	return strings.Join(parts, ",")
}
