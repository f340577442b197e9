package observability_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getsentry/sentry-go"
	"github.com/redis/go-redis/v9"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/lenticular/lenticular/platform/database"
	"github.com/lenticular/lenticular/platform/observability"
	"github.com/lenticular/lenticular/platform/observability/sentrytest"
	"github.com/lenticular/lenticular/platform/testenv"
)

func initSentry(t *testing.T) *sentrytest.Transport {
	t.Helper()
	tr := &sentrytest.Transport{}
	if _, err := observability.InitSentry(observability.SentryOptions{
		DSN: sentrytest.DSN, Environment: "test", Release: "r1", TracesSampleRate: 1, Transport: tr,
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sentry.CurrentHub().BindClient(nil) })
	return tr
}

func TestSpansForQueriesAndOutboundHTTP(t *testing.T) {
	tr := initSentry(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	db, err := database.Open(ctx, database.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Gorm.Use(observability.GormTracing{}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(sentry.SentryTraceHeader) != "" {
			t.Error("trace header sent to a third party")
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	client := &http.Client{Transport: observability.Transport(nil)}

	// Outside a transaction nothing is traced (no stray transactions).
	db.Gorm.WithContext(ctx).Exec("SELECT 1")

	tx := sentry.StartTransaction(ctx, "GET /v1/things/{id}")
	tctx := tx.Context()
	var n int
	// An argument no port number or id in the spans could contain by chance.
	const arg = 918273645
	if err := db.Gorm.WithContext(tctx).Raw("SELECT ? + 1", arg).Scan(&n).Error; err != nil || n != arg+1 {
		t.Fatalf("query: %d %v", n, err)
	}
	req, _ := http.NewRequestWithContext(tctx, http.MethodPost, srv.URL+"/v3/mail/send?api_key=sg-secret", nil)
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	tx.Finish()
	sentry.Flush(time.Second)

	txs := tr.Transactions()
	if len(txs) != 1 {
		t.Fatalf("%d transactions, want 1", len(txs))
	}
	var got []string
	for _, s := range txs[0].Spans {
		got = append(got, s.Op+" "+s.Description)
	}
	want := []string{"db.sql.query SELECT ? + 1", "http.client POST " + srv.URL + "/v3/mail/send"}
	if !slices.Equal(got, want) {
		t.Errorf("spans = %q, want %q", got, want)
	}
	if strings.Contains(strings.Join(got, " "), "sg-secret") || strings.Contains(strings.Join(got, " "), "918273645") {
		t.Error("a span carries an argument or a query string")
	}
}

func TestJobReporter(t *testing.T) {
	tr := initSentry(t)
	m := observability.NewMetrics("test")
	rep := &observability.JobReporter{Metrics: m}
	cfg := &river.Config{}
	rep.Configure(cfg)
	if cfg.ErrorHandler != rep || len(cfg.Middleware) != 1 {
		t.Fatal("Configure did not install the error handler and the middleware")
	}
	job := &rivertype.JobRow{ID: 7, Kind: "send_email", Attempt: 1, MaxAttempts: 3}
	last := &rivertype.JobRow{ID: 8, Kind: "send_email", Attempt: 3, MaxAttempts: 3}
	cases := []struct {
		job     *rivertype.JobRow
		err     error
		outcome string
	}{
		{job, nil, "completed"},
		{job, errors.New("smtp: 421 try later"), "failed"},
		{last, errors.New("smtp: 421 try later"), "discarded"},
		{job, river.JobCancel(errors.New("bad address")), "cancelled"},
		{job, river.JobSnooze(time.Minute), "snoozed"},
	}
	for _, tc := range cases {
		err := rep.Work(context.Background(), tc.job, func(context.Context) error { return tc.err })
		if !errors.Is(err, tc.err) {
			t.Errorf("Work changed the error: %v", err)
		}
		if tc.err != nil {
			rep.HandleError(context.Background(), tc.job, tc.err)
		}
	}
	func() {
		defer func() { _ = recover() }()
		_ = rep.Work(context.Background(), job, func(context.Context) error { panic("boom") })
	}()
	rep.HandlePanic(context.Background(), job, "boom", "stack")
	sentry.Flush(time.Second)

	counts := map[string]int{}
	for _, e := range tr.Events() {
		counts[e.Tags["job.kind"]]++
		if e.Tags["job.id"] == "" || e.Tags["job.attempt"] == "" {
			t.Errorf("event without job tags: %v", e.Tags)
		}
	}
	if counts["send_email"] != 5 { // failed, discarded, cancelled, snoozed errors and the panic
		t.Errorf("%d job events, want 5", counts["send_email"])
	}
	rec := httptest.NewRecorder()
	observability.PrivateHandler(m).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	for _, o := range []string{"completed", "failed", "discarded", "cancelled", "snoozed", "panicked"} {
		if !strings.Contains(rec.Body.String(), `lenticular_jobs_worked_total{kind="send_email",outcome="`+o+`"} 1`) {
			t.Errorf("no %s outcome in /metrics", o)
		}
	}
}

func TestQueueDepth(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	db, err := database.Open(ctx, database.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	m := observability.NewMetrics("test")
	m.Register(observability.NewQueueDepth(db.SQL))
	scrape := func() string {
		rec := httptest.NewRecorder()
		observability.PrivateHandler(m).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		return rec.Body.String()
	}
	if strings.Contains(scrape(), "lenticular_jobs_queued") {
		t.Error("queue depth reported before River's tables exist")
	}
	db.SQL.ExecContext(ctx, `CREATE TABLE river_job (id INTEGER PRIMARY KEY, queue TEXT, state TEXT)`)
	db.SQL.ExecContext(ctx, `INSERT INTO river_job (queue, state) VALUES ('default','available'),('default','available'),('default','completed'),('default','retryable')`)
	body := scrape()
	for _, want := range []string{
		`lenticular_jobs_queued{queue="default",state="available"} 2`,
		`lenticular_jobs_queued{queue="default",state="retryable"} 1`,
		`lenticular_jobs_queued{queue="default",state="running"} 0`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func TestSpansForRedisCommands(t *testing.T) {
	url := testenv.RedisURL(t)
	tr := initSentry(t)
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	rdb.AddHook(observability.RedisTracing{})
	tx := sentry.StartTransaction(context.Background(), "POST /v1/auth/login")
	ctx := tx.Context()
	rdb.Set(ctx, "obs:test:user@example.com", "secret-value", time.Minute)
	rdb.Get(ctx, "obs:test:missing")
	rdb.Pipelined(ctx, func(p redis.Pipeliner) error { p.Incr(ctx, "obs:test:n"); p.Del(ctx, "obs:test:n"); return nil })
	tx.Finish()
	sentry.Flush(time.Second)
	var got []string
	for _, s := range tr.Transactions()[0].Spans {
		got = append(got, s.Op+" "+s.Description+" "+string(s.Status.String()))
	}
	want := []string{"db.redis set ok", "db.redis get ok", "db.redis pipeline ok"}
	if !slices.Equal(got, want) {
		t.Errorf("spans = %q, want %q", got, want)
	}
}
