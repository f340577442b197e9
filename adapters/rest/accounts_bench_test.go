package rest_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkUsersMe is GET /v1/users/me with a valid Bearer token through the
// whole middleware chain (request id, logs, headers, CORS, body limit,
// client IP, per-user rate limit with the cheap token check, JWT
// verification, session state from the cache, handler), next to /healthz
// answering a static body through the same engine. In-process (no network),
// on the in-memory adapters: the ratio isolates the cost of authentication.
func BenchmarkUsersMe(b *testing.B) {
	h := newHarness(b, harnessOpts{vars: map[string]string{"RATE_LIMIT_USER": "1000000000/s", "RATE_LIMIT_ANON": "1000000000/s"}})
	access, _, _ := h.register("bench@example.com", goodPW, nil)
	run := func(b *testing.B, path, auth string) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				req := httptest.NewRequest(http.MethodGet, path, nil)
				req.RemoteAddr = "192.0.2.10:1234"
				if auth != "" {
					req.Header.Set("Authorization", "Bearer "+auth)
				}
				rec := httptest.NewRecorder()
				h.handler.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("%s = %d %s", path, rec.Code, rec.Body)
				}
			}
		})
	}
	b.Run("healthz", func(b *testing.B) { run(b, "/healthz", "") })
	b.Run("users_me", func(b *testing.B) { run(b, "/v1/users/me", access) })
}
