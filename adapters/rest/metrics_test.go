package rest

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/lenticular/lenticular/adapters/memory"
	"github.com/lenticular/lenticular/platform/observability"
)

func metricsRouter(t testing.TB, vars map[string]string) (http.Handler, *observability.Metrics) {
	t.Helper()
	m := observability.NewMetrics("test")
	engine, _ := NewRouter(Deps{
		Config: testConfig(t, vars), Logger: slog.New(slog.DiscardHandler), Version: "test",
		Limiter: memory.NewLimiter(), Routes: []Routes{testRoutes{}, sentryRoutes{}}, Metrics: m,
	})
	return engine, m
}

func TestRequestMetricsUseRouteTemplates(t *testing.T) {
	h, m := metricsRouter(t, map[string]string{"RATE_LIMIT_ANON": "5/m"})
	for _, r := range []request{
		{method: http.MethodGet, path: "/healthz"},
		{method: http.MethodGet, path: "/healthz"},
		{method: http.MethodGet, path: "/v1/test/items/123/fail"},
		{method: http.MethodGet, path: "/v1/test/items/456/panic"},
		{method: http.MethodGet, path: "/v1/no/such/user-path-789"},
		{method: "BREW", path: "/v1/test/echo"},
	} {
		serve(h, r)
	}
	for i := 0; i < 6; i++ { // the 5/m limit is shared by the four limited requests above
		serve(h, request{method: http.MethodGet, path: "/v1/no/such/path"})
	}
	want := `
# HELP lenticular_http_requests_total HTTP requests answered, by method, route template and status.
# TYPE lenticular_http_requests_total counter
lenticular_http_requests_total{method="GET",route="/healthz",status="200"} 2
lenticular_http_requests_total{method="GET",route="/v1/test/items/:id/fail",status="500"} 1
lenticular_http_requests_total{method="GET",route="/v1/test/items/:id/panic",status="500"} 1
lenticular_http_requests_total{method="GET",route="unmatched",status="404"} 2
lenticular_http_requests_total{method="GET",route="unmatched",status="429"} 5
lenticular_http_requests_total{method="OTHER",route="unmatched",status="405"} 1
# HELP lenticular_rate_limit_refusals_total Requests refused with 429 rate_limited, by policy.
# TYPE lenticular_rate_limit_refusals_total counter
lenticular_rate_limit_refusals_total{policy="general"} 5
# HELP lenticular_http_requests_in_flight HTTP requests being served now.
# TYPE lenticular_http_requests_in_flight gauge
lenticular_http_requests_in_flight 0
`
	if err := testutil.GatherAndCompare(m.Registry, strings.NewReader(want),
		"lenticular_http_requests_total", "lenticular_rate_limit_refusals_total", "lenticular_http_requests_in_flight"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(m.Registry, "lenticular_http_request_duration_seconds"); n != 6 {
		t.Errorf("%d latency series, want 6 (one per method, route and status)", n)
	}
}

// The private endpoints exist only on METRICS_ADDR: the public router
// answers 404 for them, with or without metrics enabled.
func TestMetricsAndPprofAreNotOnThePublicRouter(t *testing.T) {
	h, _ := metricsRouter(t, nil)
	for _, path := range []string{"/metrics", "/debug/pprof/", "/debug/pprof/heap", "/debug/pprof/cmdline", "/debug/vars"} {
		for _, router := range []http.Handler{h, newTestRouter(t, nil, nil)} {
			if w := serve(router, request{method: http.MethodGet, path: path}); w.Code != http.StatusNotFound {
				t.Errorf("GET %s on the public router = %d, want 404", path, w.Code)
			}
		}
	}
	// And nothing registered itself on the default mux that the public
	// listener could be pointed at by mistake... except pprof's own init,
	// which is why the process never serves http.DefaultServeMux.
	w := httptest.NewRecorder()
	observability.PrivateHandler(observability.NewMetrics("x")).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/debug/pprof/", nil))
	if w.Code != http.StatusOK {
		t.Errorf("private /debug/pprof/ = %d", w.Code)
	}
}

// BenchmarkHealthzFullChainWithMetrics is BenchmarkHealthzFullChain with
// the metrics middleware on, as in production.
func BenchmarkHealthzFullChainWithMetrics(b *testing.B) {
	h, _ := metricsRouter(b, noLimit)
	benchGet(b, h, "/healthz", http.StatusOK)
}
