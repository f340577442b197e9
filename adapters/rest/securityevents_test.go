package rest

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lenticular/lenticular/adapters/memory"
	"github.com/lenticular/lenticular/platform/logging"
)

// securityEventsRouter is the real router with the app's logger: JSON lines
// that carry the request's id, IP and user id when logged with a context.
func securityEventsRouter(t *testing.T, vars map[string]string, identify func(*http.Request) string) (http.Handler, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	log := slog.New(logging.WithContext(slog.NewJSONHandler(&buf, nil), LogAttrs))
	engine, _ := NewRouter(Deps{
		Config: testConfig(t, vars), Logger: log, Version: "test", Limiter: memory.NewLimiter(),
		Routes: []Routes{testRoutes{}}, Identify: identify,
	})
	return engine, &buf
}

// securityEvents returns the security-event records of a log.
func securityEvents(t *testing.T, logs *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if _, ok := rec["event"]; ok {
			out = append(out, rec)
		}
	}
	return out
}

// Secrets a client sends; none may appear in any security event.
const (
	eventBearer   = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1LTEifQ.event-signature"
	eventCookie   = "event-cookie-value"
	eventCSRF     = "event-csrf-value"
	eventPassword = "event-password-value"
	eventQuery    = "event-reset-token"
)

func TestSecurityEvents(t *testing.T) {
	secretHeaders := map[string]string{
		"Authorization": "Bearer " + eventBearer, "Cookie": "lt_access=" + eventCookie,
		"X-CSRF-Token": eventCSRF,
	}
	cases := []struct {
		name     string
		event    string
		vars     map[string]string
		identify func(*http.Request) string
		requests []request // the last one must cause the event
		status   int
		wantUser string
		extra    map[string]string // more fields the event must have
	}{
		{
			name: "rate limited, anonymous", event: "rate_limited",
			vars: map[string]string{"RATE_LIMIT_ANON": "1/m"},
			requests: []request{
				{method: http.MethodGet, path: "/v1/nothing"},
				{method: http.MethodGet, path: "/v1/nothing?token=" + eventQuery, header: secretHeaders},
			},
			status: http.StatusTooManyRequests, extra: map[string]string{"policy": "general"},
		},
		{
			name: "rate limited, signed in", event: "rate_limited",
			vars: map[string]string{"RATE_LIMIT_USER": "1/m"},
			identify: func(r *http.Request) string {
				return map[bool]string{true: "user-7"}[r.Header.Get("Authorization") != ""]
			},
			requests: []request{
				{method: http.MethodPost, path: "/v1/test/echo", body: `{"name":"ab"}`, header: secretHeaders},
				{method: http.MethodPost, path: "/v1/test/echo", body: `{"name":"` + "ab" + `","password":"` + eventPassword + `"}`, header: secretHeaders},
			},
			status: http.StatusTooManyRequests, wantUser: "user-7", extra: map[string]string{"policy": "general"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h, logs := securityEventsRouter(t, tc.vars, tc.identify)
			var w *httptest.ResponseRecorder
			for i, r := range tc.requests {
				r.remote = "198.51.100.23:4000"
				if r.header == nil {
					r.header = map[string]string{}
				}
				r.header[HeaderRequestID] = "rid-event-" + string(rune('a'+i))
				w = serve(h, r)
			}
			if w.Code != tc.status {
				t.Fatalf("last request: status %d, want %d", w.Code, tc.status)
			}
			events := securityEvents(t, logs)
			if len(events) != 1 {
				t.Fatalf("%d security events, want 1:\n%s", len(events), logs)
			}
			e := events[0]
			want := map[string]string{
				"event": tc.event, "msg": "security event", "level": "WARN",
				"request_id": "rid-event-" + string(rune('a'+len(tc.requests)-1)),
				"ip":         "198.51.100.23",
			}
			if tc.wantUser != "" {
				want["user_id"] = tc.wantUser
			} else if uid, ok := e["user_id"]; ok {
				t.Errorf("anonymous request: user_id = %q, want none", uid)
			}
			for k, v := range tc.extra {
				want[k] = v
			}
			for k, v := range want {
				if e[k] != v {
					t.Errorf("%s = %v, want %q (event %v)", k, e[k], v, e)
				}
			}
			for _, s := range []string{eventBearer, eventCookie, eventCSRF, eventPassword, eventQuery, "Bearer"} {
				if strings.Contains(logs.String(), s) {
					t.Errorf("the log contains %q:\n%s", s, logs)
				}
			}
		})
	}
}

// Passwords of the end-to-end table: distinctive, so a leak is found by a
// plain substring search of the log.
const (
	evPassword    = "sec-event pass phrase 1"
	evNewPassword = "sec-event new phrase 2"
	evWrong       = "sec-event wrong phrase 3"
)

// eventRow drives one security event of API.md through the HTTP API.
type eventRow struct {
	name  string
	event string
	vars  map[string]string
	// run does the setup and then the request that must cause the event;
	// it returns that request's response and the user id the event must
	// carry ("" when the user is not known: the line must then have no
	// user_id at all, not an empty one).
	run    func(e *eventHarness) (w *httptest.ResponseRecorder, userID string)
	status int
	// also are the other security events the same request emits, each
	// once (a password change also revokes the other sessions).
	also   []string
	fields map[string]string // more fields the event line must have
}

func securityEventRows() []eventRow {
	return []eventRow{
		{
			// Unknown account: no user exists, so there is no user id to
			// log, and the submitted address is not logged in its place.
			name: "login_failed, unknown account", event: "login_failed", status: http.StatusUnauthorized,
			fields: map[string]string{"reason": "unknown_account"},
			run: func(e *eventHarness) (*httptest.ResponseRecorder, string) {
				e.secret("password", evWrong)
				return e.do(http.MethodPost, "/v1/auth/login", map[string]any{"email": "nobody@example.com", "password": evWrong}), ""
			},
		},
		{
			name: "login_failed, wrong password", event: "login_failed", status: http.StatusUnauthorized,
			fields: map[string]string{"reason": "wrong_password"},
			run: func(e *eventHarness) (*httptest.ResponseRecorder, string) {
				a := e.register("wrong@example.com", evPassword)
				e.secret("wrong password", evWrong)
				return e.do(http.MethodPost, "/v1/auth/login", map[string]any{"email": a.email, "password": evWrong}), a.id
			},
		},
		{
			name: "login_succeeded", event: "login_succeeded", status: http.StatusOK,
			run: func(e *eventHarness) (*httptest.ResponseRecorder, string) {
				a := e.register("right@example.com", evPassword)
				w := e.do(http.MethodPost, "/v1/auth/login", map[string]any{"email": a.email, "password": a.password})
				var m map[string]any
				_ = json.Unmarshal(w.Body.Bytes(), &m)
				for _, k := range []string{"access_token", "refresh_token"} {
					s, _ := m[k].(string)
					e.secret("login "+k, s)
				}
				return w, a.id
			},
		},
		{
			// The signature does not verify, so the user id in the token
			// is not trusted: none is logged.
			name: "token_invalid, tampered token", event: "token_invalid", status: http.StatusUnauthorized,
			fields: map[string]string{"reason": "invalid"},
			run: func(e *eventHarness) (*httptest.ResponseRecorder, string) {
				a := e.register("tamper@example.com", evPassword)
				bad := tamper(a.access)
				e.secret("tampered token", bad)
				return e.do(http.MethodGet, "/v1/users/me", nil, "Authorization", "Bearer "+bad), ""
			},
		},
		{
			// A genuine token of a signed-out session: its user is known.
			name: "token_invalid, revoked session", event: "token_invalid", status: http.StatusUnauthorized,
			fields: map[string]string{"reason": "session_revoked"},
			run: func(e *eventHarness) (*httptest.ResponseRecorder, string) {
				a := e.register("revoked@example.com", evPassword)
				e.expect("logout", e.do(http.MethodPost, "/v1/auth/logout", nil, "Authorization", "Bearer "+a.access), http.StatusNoContent)
				return e.do(http.MethodGet, "/v1/users/me", nil, "Authorization", "Bearer "+a.access), a.id
			},
		},
		{
			name: "session_revoked, logout", event: "session_revoked", status: http.StatusNoContent,
			fields: map[string]string{"reason": "logout"},
			run: func(e *eventHarness) (*httptest.ResponseRecorder, string) {
				a := e.register("logout@example.com", evPassword)
				return e.do(http.MethodPost, "/v1/auth/logout", nil, "Authorization", "Bearer "+a.access), a.id
			},
		},
		{
			name: "session_revoked, session deleted", event: "session_revoked", status: http.StatusNoContent,
			fields: map[string]string{"reason": "revoked_by_user"},
			run: func(e *eventHarness) (*httptest.ResponseRecorder, string) {
				a := e.register("sessions@example.com", evPassword)
				e.login(a)
				m := e.expect("sessions", e.do(http.MethodGet, "/v1/auth/sessions", nil, "Authorization", "Bearer "+a.access), http.StatusOK)
				other := ""
				items, _ := m["items"].([]any)
				for _, it := range items {
					s, _ := it.(map[string]any)
					if s["current"] == false {
						other, _ = s["id"].(string)
					}
				}
				if other == "" {
					e.t.Fatalf("no other session in %v", m)
				}
				return e.do(http.MethodDelete, "/v1/auth/sessions/"+other, nil, "Authorization", "Bearer "+a.access), a.id
			},
		},
		{
			// After the (tiny) grace the re-presented token revokes its
			// session; the route is anonymous, the token names the user.
			name: "refresh_token_reused", event: "refresh_token_reused", status: http.StatusUnauthorized,
			vars: map[string]string{"REFRESH_REUSE_GRACE": "1ms"},
			run: func(e *eventHarness) (*httptest.ResponseRecorder, string) {
				a := e.register("reuse@example.com", evPassword)
				m := e.expect("refresh", e.do(http.MethodPost, "/v1/auth/refresh", map[string]any{"refresh_token": a.refresh}), http.StatusOK)
				for _, k := range []string{"access_token", "refresh_token"} {
					s, _ := m[k].(string)
					e.secret("rotated "+k, s)
				}
				time.Sleep(20 * time.Millisecond)
				return e.do(http.MethodPost, "/v1/auth/refresh", map[string]any{"refresh_token": a.refresh}), a.id
			},
		},
		{
			name: "password_changed", event: "password_changed", status: http.StatusNoContent,
			also: []string{"session_revoked"}, // the other session
			run: func(e *eventHarness) (*httptest.ResponseRecorder, string) {
				a := e.register("change@example.com", evPassword)
				e.login(a)
				e.secret("new password", evNewPassword)
				return e.do(http.MethodPost, "/v1/auth/password/change",
					map[string]any{"current_password": a.password, "new_password": evNewPassword},
					"Authorization", "Bearer "+a.access), a.id
			},
		},
		{
			name: "password_reset_requested", event: "password_reset_requested", status: http.StatusAccepted,
			fields: map[string]string{"outcome": "sent"},
			run: func(e *eventHarness) (*httptest.ResponseRecorder, string) {
				a := e.register("forgot@example.com", evPassword)
				w := e.do(http.MethodPost, "/v1/auth/password/forgot", map[string]any{"email": a.email})
				e.resetToken(a.email)
				return w, a.id
			},
		},
		{
			// Same answer as for an account; no user, so no user id.
			name: "password_reset_requested, unknown account", event: "password_reset_requested", status: http.StatusAccepted,
			fields: map[string]string{"outcome": "unknown_account"},
			run: func(e *eventHarness) (*httptest.ResponseRecorder, string) {
				return e.do(http.MethodPost, "/v1/auth/password/forgot", map[string]any{"email": "ghost@example.com"}), ""
			},
		},
		{
			// Anonymous route: the reset token names the user.
			name: "password_reset_completed", event: "password_reset_completed", status: http.StatusNoContent,
			also: []string{"session_revoked"}, // every session of the account
			run: func(e *eventHarness) (*httptest.ResponseRecorder, string) {
				a := e.register("reset@example.com", evPassword)
				e.expect("forgot", e.do(http.MethodPost, "/v1/auth/password/forgot", map[string]any{"email": a.email}), http.StatusAccepted)
				tok := e.resetToken(a.email)
				e.secret("new password", evNewPassword)
				return e.do(http.MethodPost, "/v1/auth/password/reset", map[string]any{"token": tok, "new_password": evNewPassword}), a.id
			},
		},
		{
			// The access cookie identifies the caller (signature checked)
			// before the CSRF check refuses the request.
			name: "csrf_failed, cookie-mode unsafe request", event: "csrf_failed", status: http.StatusForbidden,
			run: func(e *eventHarness) (*httptest.ResponseRecorder, string) {
				a := e.registerCookie("csrf@example.com", evPassword)
				return e.do(http.MethodPatch, "/v1/users/me", map[string]any{"bio": "x"}, "Cookie", a.cookieHeader()), a.id
			},
		},
		{
			name: "csrf_failed, cookie-mode refresh", event: "csrf_failed", status: http.StatusForbidden,
			run: func(e *eventHarness) (*httptest.ResponseRecorder, string) {
				a := e.registerCookie("csrf-refresh@example.com", evPassword)
				return e.do(http.MethodPost, "/v1/auth/refresh", nil, "Cookie", a.cookieHeader(), CSRFHeader, "not-the-cookie"), a.id
			},
		},
		{
			name: "permission_denied, non-admin on an admin route", event: "permission_denied", status: http.StatusForbidden,
			fields: map[string]string{"role": "user", "required": "admin"},
			run: func(e *eventHarness) (*httptest.ResponseRecorder, string) {
				a := e.register("plain@example.com", evPassword)
				return e.do(http.MethodGet, "/v1/admin/users", nil, "Authorization", "Bearer "+a.access), a.id
			},
		},
		{
			name: "rate_limited, general policy, signed in", event: "rate_limited", status: http.StatusTooManyRequests,
			vars:   map[string]string{"RATE_LIMIT_USER": "1/m"},
			fields: map[string]string{"policy": "general"},
			run: func(e *eventHarness) (*httptest.ResponseRecorder, string) {
				a := e.register("busy@example.com", evPassword)
				e.expect("first", e.do(http.MethodGet, "/v1/users/me", nil, "Authorization", "Bearer "+a.access), http.StatusOK)
				return e.do(http.MethodGet, "/v1/users/me", nil, "Authorization", "Bearer "+a.access), a.id
			},
		},
		{
			// Per client IP on the auth routes: anonymous, no user id.
			name: "rate_limited, auth policy", event: "rate_limited", status: http.StatusTooManyRequests,
			vars:   map[string]string{"RATE_LIMIT_AUTH": "1/m"},
			fields: map[string]string{"policy": "auth"},
			run: func(e *eventHarness) (*httptest.ResponseRecorder, string) {
				e.secret("password", evWrong)
				body := map[string]any{"email": "nobody@example.com", "password": evWrong}
				e.expect("first", e.do(http.MethodPost, "/v1/auth/login", body), http.StatusUnauthorized)
				return e.do(http.MethodPost, "/v1/auth/login", body), ""
			},
		},
		{
			// The account's failure bucket is full: refused before the
			// account is looked up, so no user id (the submitted address,
			// personal data, is not logged either).
			name: "rate_limited, login failures", event: "rate_limited", status: http.StatusTooManyRequests,
			vars:   map[string]string{"RATE_LIMIT_LOGIN_FAILURES": "1/m"},
			fields: map[string]string{"policy": "login_failures"},
			run: func(e *eventHarness) (*httptest.ResponseRecorder, string) {
				a := e.register("locked@example.com", evPassword)
				e.secret("wrong password", evWrong)
				body := map[string]any{"email": a.email, "password": evWrong}
				e.expect("first", e.do(http.MethodPost, "/v1/auth/login", body), http.StatusUnauthorized)
				return e.do(http.MethodPost, "/v1/auth/login", body), ""
			},
		},
	}
}

// TestSecurityEventsEndToEnd checks every security event of API.md through
// the real router and account routes: the triggering request logs exactly
// one line of the event (and no other security event than listed), with
// the response's request id, the client IP and the user id when known; no
// log line carries duplicate keys; and no credential the test sent or
// received appears anywhere in the log.
func TestSecurityEventsEndToEnd(t *testing.T) {
	rows := securityEventRows()
	covered := map[string]bool{}
	for _, tc := range rows {
		covered[tc.event] = true
		t.Run(tc.name, func(t *testing.T) {
			e := newEventHarness(t, tc.vars)
			w, wantUser := tc.run(e)
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.status, w.Body)
			}
			rid := w.Header().Get(HeaderRequestID)
			records := e.records()
			var hits []logRecord
			emitted := map[string]int{}
			for _, r := range records {
				if len(r.dups) > 0 {
					t.Errorf("log line repeats keys %v: %s", r.dups, r.line)
				}
				ev, isEvent := r.rec["event"].(string)
				if !isEvent {
					continue
				}
				// Every security event of the run, setup included, is
				// traceable to its request and client.
				if id, _ := r.rec["request_id"].(string); id == "" || r.rec["ip"] != eventClientIP {
					t.Errorf("security event without request id or client IP: %s", r.line)
				}
				if r.rec["request_id"] != rid {
					continue
				}
				emitted[ev]++
				if ev == tc.event {
					hits = append(hits, r)
				}
			}
			want := map[string]int{tc.event: 1}
			for _, ev := range tc.also {
				want[ev]++
			}
			if !maps.Equal(emitted, want) {
				t.Errorf("the request logged security events %v, want %v:\n%s", emitted, want, e.logs)
			}
			if len(hits) != 1 {
				t.Fatalf("%d %s lines for request %s, want 1:\n%s", len(hits), tc.event, rid, e.logs)
			}
			got := hits[0].rec
			fields := map[string]string{"msg": "security event", "level": "WARN", "request_id": rid, "ip": eventClientIP}
			maps.Copy(fields, tc.fields)
			for k, v := range fields {
				if got[k] != v {
					t.Errorf("%s = %v, want %q: %s", k, got[k], v, hits[0].line)
				}
			}
			if uid, has := got["user_id"]; wantUser == "" && has {
				t.Errorf("user_id = %v, want none (user not known): %s", uid, hits[0].line)
			} else if wantUser != "" && uid != wantUser {
				t.Errorf("user_id = %v, want %s: %s", uid, wantUser, hits[0].line)
			}
			all := e.logs.String()
			for label, s := range e.secrets {
				if strings.Contains(all, s) {
					t.Errorf("the log contains the %s", label)
				}
			}
		})
	}
	for _, ev := range []string{"login_failed", "login_succeeded", "token_invalid", "session_revoked",
		"refresh_token_reused", "password_changed", "password_reset_requested", "password_reset_completed",
		"rate_limited", "csrf_failed", "permission_denied"} {
		if !covered[ev] {
			t.Errorf("no row for %s", ev)
		}
	}
}
