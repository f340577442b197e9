package observability

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/getsentry/sentry-go"
)

// secrets must never appear anywhere in a scrubbed event.
var secrets = []string{
	"hunter2-password", "alice@example.com", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
	"reset-token-123", "sess=abcdef", "csrf-456", "203.0.113.9", "pgsecret", "sg-api-key",
}

func TestScrub(t *testing.T) {
	cases := []struct {
		name  string
		event sentry.Event
		keep  []string // what must survive
	}{
		{
			name: "request headers, cookies, body, query",
			event: sentry.Event{Request: &sentry.Request{
				URL:         "https://api.example.com/v1/auth/reset?token=reset-token-123",
				Method:      "POST",
				QueryString: "token=reset-token-123&email=alice%40example.com",
				Cookies:     "lt_session=sess=abcdef",
				Data:        `{"password":"hunter2-password"}`,
				Headers: map[string]string{
					"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
					"Cookie":        "lt_session=sess=abcdef", "X-Csrf-Token": "csrf-456",
					"X-Forwarded-For": "203.0.113.9", "User-Agent": "curl/8", "X-Request-Id": "rid-1",
				},
				Env: map[string]string{"REMOTE_ADDR": "203.0.113.9"},
			}},
			keep: []string{"curl/8", "rid-1", "/v1/auth/reset", "token="},
		},
		{
			name: "user keeps only the id",
			event: sentry.Event{User: sentry.User{
				ID: "user-42", Email: "alice@example.com", IPAddress: "203.0.113.9", Username: "alice@example.com",
			}},
			keep: []string{"user-42"},
		},
		{
			name: "messages and exception values",
			event: sentry.Event{
				Message: "login for alice@example.com failed with Bearer reset-token-123",
				Exception: []sentry.Exception{{
					Type:  "*errors.errorString",
					Value: "dial postgres://app:pgsecret@db:5432/app: token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
				}},
			},
			keep: []string{"login for", "dial postgres://app:", "@db:5432/app"},
		},
		{
			name: "tags, contexts, breadcrumbs and spans",
			event: sentry.Event{
				Type:     "transaction",
				Tags:     map[string]string{"request_id": "rid-2", "session_token": "sess=abcdef", "route": "/v1/me"},
				Contexts: map[string]sentry.Context{"custom": {"api_key": "sg-api-key", "note": "for alice@example.com"}},
				Breadcrumbs: []*sentry.Breadcrumb{{
					Message: "sent to alice@example.com",
					Data:    map[string]any{"password": "hunter2-password", "url": "https://x/reset?token=zz-reset-99&a=1"},
				}},
				Spans: []*sentry.Span{{
					Description: "SELECT * FROM users WHERE email = ?",
					Data:        map[string]any{"db.system": "sqlite", "authorization": "Bearer x"},
					Tags:        map[string]string{"csrf": "csrf-456"},
				}},
			},
			keep: []string{"rid-2", "/v1/me", "SELECT * FROM users WHERE email = ?", "sqlite", "session_token"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := tc.event
			got := Scrub(&e, nil)
			if got == nil {
				t.Fatal("Scrub dropped the event")
			}
			b, _ := json.Marshal(got)
			out := string(b)
			for _, s := range secrets {
				if strings.Contains(out, s) {
					t.Errorf("scrubbed event still contains %q:\n%s", s, out)
				}
			}
			for _, k := range tc.keep {
				if !strings.Contains(out, k) {
					t.Errorf("scrubbed event lost %q:\n%s", k, out)
				}
			}
		})
	}
}

func TestScrubKeepsRequestHeadersOnAllowList(t *testing.T) {
	e := &sentry.Event{Request: &sentry.Request{Headers: map[string]string{
		"x-api-key": "sg-api-key", "X-Invented": "v", "content-type": "application/json",
	}}}
	Scrub(e, nil)
	if len(e.Request.Headers) != 1 || e.Request.Headers["content-type"] != "application/json" {
		t.Errorf("headers = %v, want only content-type", e.Request.Headers)
	}
}
