package rest

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

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
			}
			for k, v := range tc.extra {
				want[k] = v
			}
			for k, v := range want {
				if e[k] != v {
					t.Errorf("%s = %v, want %q (event %v)", k, e[k], v, e)
				}
			}
			line, _ := json.Marshal(e)
			for _, s := range []string{eventBearer, eventCookie, eventCSRF, eventPassword, eventQuery, "Bearer"} {
				if strings.Contains(string(line), s) {
					t.Errorf("security event contains %q: %s", s, line)
				}
			}
		})
	}
}
