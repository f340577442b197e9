package rest

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkHealthzFullChain measures the middleware chain's cost per request
// (recover, request id, access log, headers, CORS, body limit, client IP,
// rate limit, huma). Target: under 40 allocs/op.
func BenchmarkHealthzFullChain(b *testing.B) {
	h := newTestRouter(b, map[string]string{"RATE_LIMIT_ANON": "1000000000/s"}, nil)
	req := httptest.NewRequest(http.MethodGet, "/healthz", nil)
	req.RemoteAddr = "203.0.113.7:1234"
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d", w.Code)
		}
	}
}

// BenchmarkNotFoundFullChain is the same for a rate-limited route.
func BenchmarkNotFoundFullChain(b *testing.B) {
	h := newTestRouter(b, map[string]string{"RATE_LIMIT_ANON": "1000000000/s"}, nil)
	req := httptest.NewRequest(http.MethodGet, "/v1/nope", nil)
	req.RemoteAddr = "203.0.113.7:1234"
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusNotFound {
			b.Fatalf("status %d", w.Code)
		}
	}
}
