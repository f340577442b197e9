package jobs

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/lenticular/lenticular/modules/notify"
	"github.com/lenticular/lenticular/platform/database"
	"github.com/lenticular/lenticular/platform/testenv"
)

// sentEmailsDDL mirrors adapters/gormdb/migrations/*/00002_sent_emails.sql
// (adapters may not import each other, even in tests); platform/app's tests
// run the real migrations together with this package.
var sentEmailsDDL = map[database.Dialect]string{
	database.DialectPostgres: `CREATE TABLE sent_emails (job_id bigint PRIMARY KEY, key_hash text, sent_at timestamptz NOT NULL DEFAULT now());
CREATE INDEX sent_emails_key_hash_idx ON sent_emails (key_hash) WHERE key_hash IS NOT NULL`,
	database.DialectSQLite: `CREATE TABLE sent_emails (job_id INTEGER NOT NULL PRIMARY KEY, key_hash TEXT, sent_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP);
CREATE INDEX sent_emails_key_hash_idx ON sent_emails (key_hash) WHERE key_hash IS NOT NULL`,
}

// testDB is a migrated database of one dialect.
type testDB struct {
	*database.DB
	url     string // PostgreSQL URL (ListenURL); "" on SQLite
	dataDir string // SQLite directory; "" on PostgreSQL
}

// dialect opens a fresh, migrated database.
type dialect struct {
	name string
	open func(t testing.TB) *testDB
}

var dialects = []dialect{
	{"sqlite", func(t testing.TB) *testDB {
		dir := t.TempDir()
		return migrated(t, database.Options{DataDir: dir}, &testDB{dataDir: dir})
	}},
	{"postgres", func(t testing.TB) *testDB {
		url := testenv.FreshPostgres(t)
		return migrated(t, database.Options{URL: url}, &testDB{url: url})
	}},
}

func openDB(t testing.TB, o database.Options) *database.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	db, err := database.Open(ctx, o)
	if err != nil {
		t.Fatalf("open database: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func migrated(t testing.TB, o database.Options, tdb *testDB) *testDB {
	t.Helper()
	tdb.DB = openDB(t, o)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := tdb.SQL.ExecContext(ctx, sentEmailsDDL[tdb.Dialect]); err != nil {
		t.Fatalf("create sent_emails: %v", err)
	}
	m, err := NewMigrator(tdb.DB, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Up(ctx); err != nil {
		t.Fatalf("River migrations: %v", err)
	}
	return tdb
}

// fastRetry retries after 10 ms, so retry tests take no time.
type fastRetry struct{}

func (fastRetry) NextRetry(*rivertype.JobRow) time.Time { return time.Now().Add(10 * time.Millisecond) }

// testOptions are quick to start and stop, poll often and retry at once.
func testOptions(tdb *testDB) Options {
	return Options{
		MaxAttempts:       3,
		RetryPolicy:       fastRetry{},
		FetchCooldown:     10 * time.Millisecond,
		FetchPollInterval: 50 * time.Millisecond,
		SoftStopTimeout:   5 * time.Second,
		ListenURL:         tdb.url,
		Tune:              func(c *river.Config) { c.TestOnly = true },
	}
}

// newJobs returns a client, started when d is not nil, stopped at cleanup.
func newJobs(t testing.TB, tdb *testDB, d Deliverer, o Options) *Jobs {
	t.Helper()
	j, err := New(tdb.DB, d, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := j.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
		j.Close()
	})
	return j
}

// call is one Deliver call.
type call struct {
	Email     notify.Email
	MessageID string
	At        time.Time
}

// fakeDeliverer records calls and answers with fn (nil: success). fn gets
// the 1-based number of calls so far for this recipient.
type fakeDeliverer struct {
	fn func(ctx context.Context, e notify.Email, n int) error

	mu      sync.Mutex
	calls   []call
	perTo   map[string]int
	started chan call // receives every call, when not nil (non-blocking)
}

func (f *fakeDeliverer) Deliver(ctx context.Context, e notify.Email, messageID string) error {
	c := call{Email: e, MessageID: messageID, At: time.Now()}
	f.mu.Lock()
	if f.perTo == nil {
		f.perTo = make(map[string]int)
	}
	f.perTo[e.To]++
	n := f.perTo[e.To]
	f.calls = append(f.calls, c)
	f.mu.Unlock()
	if f.started != nil {
		select {
		case f.started <- c:
		default:
		}
	}
	if f.fn != nil {
		return f.fn(ctx, e, n)
	}
	return nil
}

func (f *fakeDeliverer) Calls() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]call(nil), f.calls...)
}

func (f *fakeDeliverer) count(to string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.perTo[to]
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, err := cond()
		if err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// jobsOf lists every job.
func jobsOf(t testing.TB, j *Jobs) []Job {
	t.Helper()
	list, err := j.List(context.Background(), "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// waitState waits until the only job for to is in state want and returns it.
func waitState(t testing.TB, j *Jobs, id int64, want string) Job {
	t.Helper()
	var got Job
	waitFor(t, 15*time.Second, fmt.Sprintf("job %d to be %s", id, want), func() (bool, error) {
		row, err := j.client.JobGet(context.Background(), id)
		if err != nil {
			return false, err
		}
		got = Job{ID: row.ID, State: string(row.State), Attempt: row.Attempt, Errors: len(row.Errors)}
		if n := len(row.Errors); n > 0 {
			got.LastError = row.Errors[n-1].Error
		}
		return got.State == want, nil
	})
	return got
}

// onlyJob returns the one job in the database.
func onlyJob(t testing.TB, j *Jobs) Job {
	t.Helper()
	list := jobsOf(t, j)
	if len(list) != 1 {
		t.Fatalf("jobs = %+v, want exactly one", list)
	}
	return list[0]
}

func email(to string) notify.Email {
	return notify.Email{To: to, Template: "welcome", Data: map[string]string{"name": "Ada"}}
}

var errFlaky = errors.New("provider unavailable")

func sentRows(t testing.TB, db *database.DB) int {
	t.Helper()
	var n int
	if err := db.SQL.QueryRow("SELECT COUNT(*) FROM sent_emails").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
