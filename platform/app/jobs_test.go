package app

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"go.uber.org/fx"

	"github.com/lenticular/lenticular/adapters/jobs"
	"github.com/lenticular/lenticular/modules/notify"
	"github.com/lenticular/lenticular/platform/database"
	"github.com/lenticular/lenticular/platform/testenv"
)

// recordingDeliverer stands in for rendering and sending.
type recordingDeliverer struct{ got chan notify.Email }

func (r *recordingDeliverer) Deliver(_ context.Context, e notify.Email, _ string) error {
	r.got <- e
	return nil
}

func withDeliverer(d jobs.Deliverer) fx.Option {
	return fx.Decorate(func(jobs.Deliverer) jobs.Deliverer { return d })
}

// queueIn commits one email through the app's notify.Queue, in a
// transaction of the app's database as a use case would.
func queueIn(t *testing.T, db *database.DB, q notify.Queue, to string) {
	t.Helper()
	err := db.InTx(context.Background(), func(ctx context.Context) error {
		return q.Enqueue(ctx, notify.Email{To: to, Template: notify.TemplateVerifyEmail, Data: map[string]string{"token": "t"}})
	})
	if err != nil {
		t.Fatal(err)
	}
}

func wantDelivered(t *testing.T, d *recordingDeliverer, to string) {
	t.Helper()
	select {
	case e := <-d.got:
		if e.To != to {
			t.Fatalf("delivered to %q, want %q", e.To, to)
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("email to %s not delivered", to)
	}
}

func TestServeRunsJobs(t *testing.T) {
	for _, tc := range []struct {
		name string
		vars func(t *testing.T) map[string]string
	}{
		{"sqlite", func(*testing.T) map[string]string { return nil }},
		{"postgres", func(t *testing.T) map[string]string {
			return map[string]string{"DATABASE_URL": testenv.FreshPostgres(t)}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(t, tc.vars(t))
			d := &recordingDeliverer{got: make(chan notify.Email, 1)}
			var (
				q  notify.Queue
				db *database.DB
			)
			_, base := startApp(t, cfg, withDeliverer(d), fx.Populate(&q, &db))
			checkReady(t, base, map[string]string{"migrations": "ok"})
			queueIn(t, db, q, "ada@example.com")
			wantDelivered(t, d, "ada@example.com")
		})
	}
}

func TestWorkerOffThenWorkerProcess(t *testing.T) {
	cfg := testConfig(t, map[string]string{"WORKER": "off"})
	log := slog.New(slog.DiscardHandler)
	d := &recordingDeliverer{got: make(chan notify.Email, 1)}
	var (
		q  notify.Queue
		db *database.DB
	)
	api, _ := startApp(t, cfg, withDeliverer(d), fx.Populate(&q, &db))
	queueIn(t, db, q, "grace@example.com")
	select {
	case e := <-d.got:
		t.Fatalf("WORKER=off delivered %+v", e)
	case <-time.After(500 * time.Millisecond):
	}
	if err := api.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}

	w := NewWorker(cfg, "test", log, withDeliverer(d))
	if err := w.Err(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer w.Stop(context.Background())
	if w.Addr() != "" {
		t.Errorf("the worker listens on %s; it should serve no HTTP", w.Addr())
	}
	wantDelivered(t, d, "grace@example.com")

	// Delivery returns before the worker commits the completion, so the
	// listing may need a moment to show it.
	var out bytes.Buffer
	for deadline := time.Now().Add(10 * time.Second); ; {
		out.Reset()
		if err := JobsList(ctx, cfg, log, "completed", 10, &out); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(out.String(), "send_email  completed") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("jobs list:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Without AUTO_MIGRATE the service starts, reports the pending migrations,
// and its workers start once `lenticular migrate up` has run.
func TestWorkersWaitForMigrations(t *testing.T) {
	defer func(p time.Duration) { jobsSchemaPoll = p }(jobsSchemaPoll)
	jobsSchemaPoll = 100 * time.Millisecond
	cfg := testConfig(t, map[string]string{"AUTO_MIGRATE": "false"})
	d := &recordingDeliverer{got: make(chan notify.Email, 1)}
	var (
		q  notify.Queue
		db *database.DB
	)
	startApp(t, cfg, withDeliverer(d), fx.Populate(&q, &db))
	if err := Migrate(context.Background(), cfg, slog.New(slog.DiscardHandler), "up", io.Discard); err != nil {
		t.Fatal(err)
	}
	queueIn(t, db, q, "late@example.com")
	wantDelivered(t, d, "late@example.com")
}

func TestMigrateCoversJobTables(t *testing.T) {
	cfg := testConfig(t, nil)
	log := slog.New(slog.DiscardHandler)
	ctx := context.Background()
	run := func(action string) string {
		t.Helper()
		var out bytes.Buffer
		if err := Migrate(ctx, cfg, log, action, &out); err != nil {
			t.Fatalf("migrate %s: %v", action, err)
		}
		return out.String()
	}
	if out := run("up"); !strings.Contains(out, "applied 00002_sent_emails.sql") || !strings.Contains(out, "applied river 001") {
		t.Fatalf("migrate up:\n%s", out)
	}
	if out := run("up"); !strings.Contains(out, "no pending migrations") {
		t.Fatalf("second migrate up:\n%s", out)
	}
	pending := regexp.MustCompile(`(?m) pending$`)
	if out := run("status"); !strings.Contains(out, "river: ") || pending.MatchString(out) {
		t.Fatalf("migrate status:\n%s", out)
	}
	// Down leaves River's tables until the application's are all gone.
	for i := 0; ; i++ {
		out := run("down")
		if strings.Contains(out, "rolled back River's job tables") {
			if out := run("status"); len(pending.FindAllString(out, -1)) != strings.Count(out, "\n")-1 {
				t.Fatal("migrations still applied after River's tables were removed")
			}
			break
		}
		if !strings.Contains(out, "rolled back 0") || i > 100 {
			t.Fatalf("migrate down #%d:\n%s", i+1, out)
		}
	}
	if out := run("down"); !strings.Contains(out, "nothing to roll back") {
		t.Fatalf("final migrate down:\n%s", out)
	}
}

func TestJobsTuningIsApplied(t *testing.T) {
	cfg := testConfig(t, nil)
	called := make(chan struct{}, 1)
	tuning := fx.Provide(fx.Annotate(func() JobsTuning {
		return func(c *river.Config) {
			if c.Workers == nil {
				t.Error("tuning ran before the workers were configured")
			}
			called <- struct{}{}
		}
	}, fx.ResultTags(`group:"jobs_tuning"`)))
	startApp(t, cfg, tuning)
	select {
	case <-called:
	default:
		t.Fatal("the JobsTuning was not applied")
	}
}
