package rest

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// benchGet measures one GET through a handler, failing on any other status.
func benchGet(b *testing.B, h http.Handler, path string, want int) {
	b.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.RemoteAddr = "203.0.113.7:1234"
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != want {
			b.Fatalf("status %d, want %d", w.Code, want)
		}
	}
}

// noLimit keeps the limiter in the chain without it refusing the benchmark.
var noLimit = map[string]string{"RATE_LIMIT_ANON": "1000000000/s"}

// BenchmarkHealthzFullChain measures the middleware chain's cost per request
// (recover, request id, access log, headers, CORS, body limit, client IP,
// rate limit, huma). Target: under 40 allocs/op.
func BenchmarkHealthzFullChain(b *testing.B) {
	benchGet(b, newTestRouter(b, noLimit, nil), "/healthz", http.StatusOK)
}

// BenchmarkNotFoundFullChain is the same for a rate-limited route.
func BenchmarkNotFoundFullChain(b *testing.B) {
	benchGet(b, newTestRouter(b, noLimit, nil), "/v1/nope", http.StatusNotFound)
}
