package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/danielgtaylor/huma/v2"
	"github.com/gin-gonic/gin"

	"github.com/lenticular/lenticular/adapters/memory"
	"github.com/lenticular/lenticular/platform/config"
)

const testSecret = "0123456789abcdef0123456789abcdef"

type echoInput struct {
	Body struct {
		Name  string `json:"name" minLength:"2" maxLength:"10"`
		Count int    `json:"count,omitempty" minimum:"0"`
	}
}

type echoOutput struct {
	Body struct {
		Name string `json:"name"`
	}
}

// testRoutes exercises the chain with a body, a panic and a hidden failure.
type testRoutes struct{}

func (testRoutes) Register(api *API) {
	Register(api, huma.Operation{OperationID: "echo", Method: http.MethodPost, Path: "/v1/test/echo", Summary: "Echo"},
		func(_ context.Context, in *echoInput) (*echoOutput, error) {
			out := &echoOutput{}
			out.Body.Name = in.Body.Name
			return out, nil
		})
	Register(api, huma.Operation{OperationID: "big", Method: http.MethodGet, Path: "/v1/test/big", Summary: "Big"},
		func(context.Context, *struct{}) (*echoOutput, error) {
			out := &echoOutput{}
			out.Body.Name = strings.Repeat("<é>", 4000)
			return out, nil
		})
	Register(api, huma.Operation{OperationID: "panic", Method: http.MethodGet, Path: "/v1/test/panic", Summary: "Panic"},
		func(context.Context, *struct{}) (*echoOutput, error) { panic("boom: secret stack detail") })
	Register(api, huma.Operation{OperationID: "fail", Method: http.MethodGet, Path: "/v1/test/fail", Summary: "Fail"},
		func(context.Context, *struct{}) (*echoOutput, error) {
			return nil, errors.New("pq: password authentication failed for user app")
		})
}

func testConfig(t testing.TB, vars map[string]string) *config.Config {
	t.Helper()
	all := map[string]string{"APP_ENV": "test", "JWT_SECRET": testSecret}
	for k, v := range vars {
		all[k] = v
	}
	cfg, err := config.LoadFrom(all)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func newTestRouter(t testing.TB, vars map[string]string, logs io.Writer) *gin.Engine {
	t.Helper()
	if logs == nil {
		logs = io.Discard
	}
	engine, _ := NewRouter(Deps{
		Config:    testConfig(t, vars),
		Logger:    slog.New(slog.NewJSONHandler(logs, nil)),
		Version:   "test",
		Limiter:   memory.NewLimiter(),
		Readiness: []ReadinessCheck{{Name: "database", Check: func(context.Context) error { return nil }}, {Name: "redis"}},
		Routes:    []Routes{testRoutes{}},
	})
	return engine
}

type request struct {
	method, path, body string
	header             map[string]string
	remote             string
	chunked            bool
}

func serve(h http.Handler, r request) *httptest.ResponseRecorder {
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	req := httptest.NewRequest(r.method, r.path, body)
	if r.chunked {
		req.ContentLength = -1
		req.Body = io.NopCloser(strings.NewReader(r.body))
	}
	if r.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	if r.remote != "" {
		req.RemoteAddr = r.remote
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func decodeProblem(t *testing.T, w *httptest.ResponseRecorder) Problem {
	t.Helper()
	if ct := w.Header().Get("Content-Type"); ct != ProblemContentType {
		t.Fatalf("Content-Type = %q, want %s (body %s)", ct, ProblemContentType, w.Body)
	}
	var p Problem
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
		t.Fatalf("problem body: %v: %s", err, w.Body)
	}
	if p.RequestID == "" || p.RequestID != w.Header().Get(HeaderRequestID) {
		t.Errorf("request_id %q does not match header %q", p.RequestID, w.Header().Get(HeaderRequestID))
	}
	if p.Status != w.Code || p.Type == "" || p.Title == "" {
		t.Errorf("incomplete problem: %+v", p)
	}
	return p
}

func TestErrorsAreProblems(t *testing.T) {
	h := newTestRouter(t, nil, nil)
	big := `{"name":"` + strings.Repeat("x", 1<<20) + `"}`
	cases := []struct {
		name   string
		req    request
		status int
		code   string
		field  string
	}{
		{"unknown path", request{method: "GET", path: "/v1/nope"}, 404, "not_found", ""},
		{"wrong method", request{method: "DELETE", path: "/v1/test/echo"}, 405, "method_not_allowed", ""},
		{"malformed json", request{method: "POST", path: "/v1/test/echo", body: `{"name":`}, 400, "malformed_request", ""},
		{"wrong type", request{method: "POST", path: "/v1/test/echo", body: `{"name":42}`}, 400, "malformed_request", ""},
		{"not json", request{method: "POST", path: "/v1/test/echo", body: "name=x", header: map[string]string{"Content-Type": "text/plain"}}, 415, "unsupported_media_type", ""},
		{"unknown field", request{method: "POST", path: "/v1/test/echo", body: `{"name":"ok","role":"admin"}`}, 422, "validation_failed", "role"},
		{"too short", request{method: "POST", path: "/v1/test/echo", body: `{"name":"x"}`}, 422, "validation_failed", "name"},
		{"missing required", request{method: "POST", path: "/v1/test/echo", body: `{}`}, 422, "validation_failed", "name"},
		{"declared body too large", request{method: "POST", path: "/v1/test/echo", body: big}, 413, "payload_too_large", ""},
		{"chunked body too large", request{method: "POST", path: "/v1/test/echo", body: big, chunked: true}, 413, "payload_too_large", ""},
		{"panic", request{method: "GET", path: "/v1/test/panic"}, 500, "internal_error", ""},
		{"unmapped error", request{method: "GET", path: "/v1/test/fail"}, 500, "internal_error", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := serve(h, tc.req)
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.status, w.Body)
			}
			p := decodeProblem(t, w)
			if p.Code != tc.code {
				t.Errorf("code %q, want %q", p.Code, tc.code)
			}
			if tc.field != "" && (len(p.Errors) == 0 || p.Errors[0].Field != tc.field) {
				t.Errorf("errors %+v do not name field %q", p.Errors, tc.field)
			}
			for _, leak := range []string{"secret stack", "pq:", "password", "goroutine", ".go:"} {
				if strings.Contains(w.Body.String(), leak) {
					t.Errorf("body leaks %q: %s", leak, w.Body)
				}
			}
		})
	}
	t.Run("405 names the allowed methods", func(t *testing.T) {
		if allow := serve(h, request{method: "DELETE", path: "/v1/test/echo"}).Header().Get("Allow"); allow != "POST" {
			t.Errorf("Allow = %q", allow)
		}
	})
	t.Run("body of exactly the limit is accepted", func(t *testing.T) {
		h := newTestRouter(t, map[string]string{"BODY_LIMIT": "20"}, nil)
		body := `{"name":"abcdefghi"}` // 20 bytes
		if w := serve(h, request{method: "POST", path: "/v1/test/echo", body: body, chunked: true}); w.Code != 200 {
			t.Errorf("status %d: %s", w.Code, w.Body)
		}
		if w := serve(h, request{method: "POST", path: "/v1/test/echo", body: body + " ", chunked: true}); w.Code != 413 {
			t.Errorf("one byte over: status %d", w.Code)
		}
	})
	t.Run("valid request passes", func(t *testing.T) {
		w := serve(h, request{method: "POST", path: "/v1/test/echo", body: `{"name":"ok"}`})
		if w.Code != 200 || !strings.Contains(w.Body.String(), `"name":"ok"`) {
			t.Errorf("status %d: %s", w.Code, w.Body)
		}
	})
}

func TestPanicIsLoggedServerSide(t *testing.T) {
	var logs bytes.Buffer
	h := newTestRouter(t, nil, &logs)
	serve(h, request{method: "GET", path: "/v1/test/panic"})
	if !strings.Contains(logs.String(), "secret stack detail") {
		t.Errorf("the panic must reach the log: %s", logs.String())
	}
}

func TestSecurityHeaders(t *testing.T) {
	want := map[string]string{
		"X-Content-Type-Options":     "nosniff",
		"X-Frame-Options":            "DENY",
		"Referrer-Policy":            "no-referrer",
		"Content-Security-Policy":    "default-src 'none'; frame-ancestors 'none'",
		"Cross-Origin-Opener-Policy": "same-origin",
	}
	h := newTestRouter(t, nil, nil)
	for _, path := range []string{"/healthz", "/v1/nope", "/v1/test/panic", "/openapi.json"} {
		w := serve(h, request{method: "GET", path: path})
		for k, v := range want {
			if got := w.Header().Get(k); got != v {
				t.Errorf("%s: %s = %q, want %q", path, k, got, v)
			}
		}
		if w.Header().Get("Strict-Transport-Security") != "" {
			t.Errorf("%s: HSTS outside staging/production", path)
		}
	}
	docs := serve(h, request{method: "GET", path: "/docs"})
	if docs.Code != 200 || !strings.Contains(docs.Header().Get("Content-Security-Policy"), "script-src https://unpkg.com") {
		t.Errorf("/docs: %d, CSP %q", docs.Code, docs.Header().Get("Content-Security-Policy"))
	}
}

func TestRequestID(t *testing.T) {
	h := newTestRouter(t, nil, nil)
	cases := []struct {
		in   string
		echo bool
	}{
		{"abc-123_DEF.4:5", true},
		{"", false},
		{"has space", false},
		{"<script>", false},
		{strings.Repeat("a", 129), false},
	}
	seen := map[string]bool{}
	for _, tc := range cases {
		w := serve(h, request{method: "GET", path: "/healthz", header: map[string]string{HeaderRequestID: tc.in}})
		got := w.Header().Get(HeaderRequestID)
		if tc.echo && got != tc.in {
			t.Errorf("sane id %q not echoed: %q", tc.in, got)
		}
		if !tc.echo && (got == tc.in || len(got) != 32 || seen[got]) {
			t.Errorf("id %q must be replaced by a fresh one, got %q", tc.in, got)
		}
		seen[got] = true
	}
}

func TestCORS(t *testing.T) {
	h := newTestRouter(t, map[string]string{"CORS_ALLOWED_ORIGINS": "https://app.example.com"}, nil)
	preflight := func(origin string) *httptest.ResponseRecorder {
		return serve(h, request{method: "OPTIONS", path: "/v1/test/echo", header: map[string]string{
			"Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,x-csrf-token",
		}})
	}
	ok := preflight("https://app.example.com")
	if ok.Header().Get("Access-Control-Allow-Origin") != "https://app.example.com" ||
		ok.Header().Get("Access-Control-Allow-Credentials") != "true" ||
		!strings.Contains(ok.Header().Get("Access-Control-Allow-Headers"), "X-CSRF-Token") ||
		!strings.Contains(ok.Header().Get("Access-Control-Allow-Headers"), "X-Token-Transport") ||
		!strings.Contains(strings.Join(ok.Header().Values("Vary"), ","), "Origin") {
		t.Errorf("allowed preflight: %d %v", ok.Code, ok.Header())
	}
	for _, origin := range []string{"https://evil.example", "null", "https://app.example.com.evil.example"} {
		w := preflight(origin)
		for k := range w.Header() {
			if strings.HasPrefix(k, "Access-Control-") {
				t.Errorf("origin %q got CORS header %s", origin, k)
			}
		}
	}
	simple := serve(h, request{method: "GET", path: "/healthz", header: map[string]string{"Origin": "https://app.example.com"}})
	if simple.Header().Get("Access-Control-Allow-Origin") != "https://app.example.com" ||
		!strings.Contains(simple.Header().Get("Access-Control-Expose-Headers"), "RateLimit-Remaining") ||
		!strings.Contains(simple.Header().Get("Access-Control-Expose-Headers"), "X-Request-ID") {
		t.Errorf("simple request: %v", simple.Header())
	}
	other := serve(h, request{method: "GET", path: "/healthz", header: map[string]string{"Origin": "https://evil.example"}})
	if other.Code != 200 || other.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("unknown origin: %d %v", other.Code, other.Header())
	}
}

func TestHTTPSInDeployedEnvironments(t *testing.T) {
	vars := map[string]string{"APP_ENV": "production", "DATABASE_URL": "postgres://db/app", "TRUSTED_PROXIES": "10.0.0.0/8"}
	h := newTestRouter(t, vars, nil)
	cases := []struct {
		name     string
		req      request
		status   int
		location string
	}{
		{"plain GET is redirected", request{method: "GET", path: "/v1/nope?a=1", remote: "203.0.113.7:1"}, 308, "https://example.com/v1/nope?a=1"},
		{"plain POST is refused", request{method: "POST", path: "/v1/test/echo", body: `{"name":"ok"}`, remote: "203.0.113.7:1"}, 403, ""},
		{"https via trusted proxy passes", request{method: "POST", path: "/v1/test/echo", body: `{"name":"ok"}`, remote: "10.0.0.1:1", header: map[string]string{"X-Forwarded-Proto": "https"}}, 200, ""},
		{"forwarded proto from untrusted peer is ignored", request{method: "POST", path: "/v1/test/echo", body: `{"name":"ok"}`, remote: "203.0.113.7:1", header: map[string]string{"X-Forwarded-Proto": "https"}}, 403, ""},
		{"http via trusted proxy is refused", request{method: "POST", path: "/v1/test/echo", body: `{"name":"ok"}`, remote: "10.0.0.1:1", header: map[string]string{"X-Forwarded-Proto": "http"}}, 403, ""},
		{"probes are exempt", request{method: "GET", path: "/healthz", remote: "10.0.0.1:1"}, 200, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := serve(h, tc.req)
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.status, w.Body)
			}
			if tc.location != "" && w.Header().Get("Location") != tc.location {
				t.Errorf("Location %q", w.Header().Get("Location"))
			}
			if tc.status == 403 && decodeProblem(t, w).Code != "https_required" {
				t.Errorf("want https_required: %s", w.Body)
			}
			if w.Header().Get("Strict-Transport-Security") != "max-age=31536000; includeSubDomains" {
				t.Errorf("HSTS missing")
			}
		})
	}
}

func TestRateLimit(t *testing.T) {
	var logs bytes.Buffer
	h := newTestRouter(t, map[string]string{"RATE_LIMIT_ANON": "3/m", "TRUSTED_PROXIES": "10.0.0.0/8"}, &logs)
	get := func(remote, xff string) *httptest.ResponseRecorder {
		return serve(h, request{method: "GET", path: "/v1/nope", remote: remote, header: map[string]string{"X-Forwarded-For": xff}})
	}
	for i := range 3 {
		w := get("203.0.113.7:1", "")
		if w.Code != 404 || w.Header().Get("RateLimit-Limit") != "3" || w.Header().Get("RateLimit-Remaining") != string(rune('2'-i)) {
			t.Fatalf("request %d: %d %v", i, w.Code, w.Header())
		}
	}
	w := get("203.0.113.7:1", "")
	if w.Code != 429 || decodeProblem(t, w).Code != "rate_limited" {
		t.Fatalf("fourth request: %d %s", w.Code, w.Body)
	}
	if ra := w.Header().Get("Retry-After"); ra == "" || ra == "0" {
		t.Errorf("Retry-After = %q", ra)
	}
	if !strings.Contains(logs.String(), `"event":"rate_limited"`) {
		t.Errorf("no rate_limited security event logged")
	}
	if get("203.0.113.7:1", "198.51.100.1").Code != 429 {
		t.Error("a spoofed X-Forwarded-For from an untrusted peer must not escape the limit")
	}
	if get("203.0.113.8:1", "").Code != 404 {
		t.Error("another client has its own budget")
	}
	if get("10.0.0.1:1", "198.51.100.1").Code != 404 {
		t.Error("a client behind a trusted proxy has its own budget")
	}
	if serve(h, request{method: "GET", path: "/healthz", remote: "203.0.113.7:1"}).Code != 200 {
		t.Error("probes are never limited")
	}
}

func TestReadiness(t *testing.T) {
	failing := errors.New("connection refused")
	engine, _ := NewRouter(Deps{
		Config: testConfig(t, nil), Logger: slog.New(slog.DiscardHandler), Limiter: memory.NewLimiter(),
		Readiness: []ReadinessCheck{
			{Name: "database", Check: func(context.Context) error { return failing }},
			{Name: "redis"},
			{Name: "migrations", Check: func(context.Context) error { return nil }},
		},
	})
	w := serve(engine, request{method: "GET", path: "/readyz"})
	if w.Code != 503 {
		t.Fatalf("status %d", w.Code)
	}
	p := decodeProblem(t, w)
	if p.Checks["database"] != "failing" || p.Checks["redis"] != "disabled" || p.Checks["migrations"] != "ok" {
		t.Errorf("checks %v", p.Checks)
	}
	if strings.Contains(w.Body.String(), "refused") {
		t.Error("dependency error text must not reach the client")
	}
}
