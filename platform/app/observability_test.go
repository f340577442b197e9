package app

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/getsentry/sentry-go"
	"go.uber.org/fx"

	"github.com/lenticular/lenticular/platform/observability/sentrytest"
)

func fetch(t *testing.T, url string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, b := doChecked(t, req)
	return res.StatusCode, string(b)
}

func TestMetricsAndPprofOnlyOnThePrivateListener(t *testing.T) {
	var ms *MetricsServer
	cfg := testConfig(t, map[string]string{"METRICS_ADDR": "127.0.0.1:0"})
	_, base := startApp(t, cfg, fx.Populate(&ms))
	if ms == nil {
		t.Fatal("no metrics server with METRICS_ADDR set")
	}
	private := "http://" + ms.Addr()
	for range 3 {
		fetch(t, base+"/healthz")
		fetch(t, base+"/v1/unknown/42")
	}
	for _, path := range []string{"/metrics", "/debug/pprof/", "/debug/pprof/goroutine?debug=1"} {
		if code, _ := fetch(t, base+path); code != http.StatusNotFound {
			t.Errorf("public GET %s = %d, want 404", path, code)
		}
		if code, _ := fetch(t, private+path); code != http.StatusOK {
			t.Errorf("private GET %s = %d, want 200", path, code)
		}
	}
	_, body := fetch(t, private+"/metrics")
	for _, want := range []string{
		`lenticular_http_requests_total{method="GET",route="/healthz",status="200"} 3`,
		`lenticular_http_requests_total{method="GET",route="unmatched",status="404"} 6`, // 3 unknown paths + the 3 private paths tried publicly
		`lenticular_http_request_duration_seconds_bucket{method="GET",route="/healthz",status="200",le="0.005"}`,
		"lenticular_http_requests_in_flight",
		`lenticular_build_info{version="test"} 1`,
		`go_sql_max_open_connections{db_name="lenticular"} 1`,
		"go_goroutines", "go_memstats_heap_alloc_bytes", "process_open_fds",
		`lenticular_rate_limit_refusals_total{policy="general"} 0`, "lenticular_db_slow_queries_total 0",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s\n%s", want, grepLenticular(body))
		}
	}
	if strings.Contains(body, "/v1/unknown/42") {
		t.Error("a raw path became a label value")
	}
}

func TestNoMetricsListenerWithoutMetricsAddr(t *testing.T) {
	var ms *MetricsServer
	startApp(t, testConfig(t, nil), fx.Populate(&ms))
	if ms != nil {
		t.Errorf("metrics server started without METRICS_ADDR: %v", ms.Addr())
	}
}

func TestSentryReceivesTransactionsWithReleaseAndEnvironment(t *testing.T) {
	tr := &sentrytest.Transport{}
	cfg := testConfig(t, map[string]string{
		"SENTRY_DSN": sentrytest.DSN, "SENTRY_TRACES_SAMPLE_RATE": "1", "SENTRY_ENVIRONMENT": "ci",
	})
	t.Cleanup(func() { sentry.CurrentHub().BindClient(nil) })
	a, base := startApp(t, cfg, fx.Supply(&SentryTransport{tr}))
	fetch(t, base+"/readyz")
	if err := a.Stop(t.Context()); err != nil { // flushes
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for len(tr.Transactions()) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	txs := tr.Transactions()
	if len(txs) == 0 {
		t.Fatal("no transaction sent")
	}
	// Other transactions (the test's own fetch of /openapi.json) may come first.
	e := txs[0]
	for _, tx := range txs {
		if tx.Transaction == "GET /readyz" {
			e = tx
		}
	}
	if e.Transaction != "GET /readyz" || e.Release != "test" || e.Environment != "ci" || e.Tags["request_id"] == "" {
		t.Errorf("transaction %q release %q environment %q tags %v", e.Transaction, e.Release, e.Environment, e.Tags)
	}
	var dbSpans int
	for _, s := range e.Spans {
		if s.Op == "db.sql.query" {
			dbSpans++
		}
	}
	t.Logf("%d spans, %d database", len(e.Spans), dbSpans)
}

func grepLenticular(body string) string {
	var out []string
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, "lenticular_http_requests_total") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
