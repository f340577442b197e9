// Package jobs runs background jobs on River, in the application database:
// PostgreSQL through database/sql (with a pgx connection for LISTEN/NOTIFY)
// or embedded SQLite. It implements notify.Queue: an email queued inside a
// database transaction (database.DB.InTx) exists if and only if that
// transaction commits, and a committed job runs even if the process that
// queued it dies before any worker sees it.
//
// The send_email job retries with exponential backoff up to MaxAttempts,
// stops at once on notify.ErrPermanent (the job is kept, cancelled, with its
// error), and is idempotent per job: a run that finds its delivery recorded
// in sent_emails sends nothing.
package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"

	"github.com/lenticular/lenticular/modules/notify"
	"github.com/lenticular/lenticular/platform/database"
)

// Defaults applied to zero-valued Options.
const (
	DefaultMaxAttempts = 10
	DefaultMaxWorkers  = 10
	// DefaultJobTimeout bounds one attempt; a delivery that hangs longer is
	// cancelled and retried.
	DefaultJobTimeout = time.Minute
	// DefaultRescueStuckJobsAfter is how long a job may stay "running" before
	// River's rescuer (on the leader) assumes its worker died and schedules
	// it again. It must exceed JobTimeout.
	DefaultRescueStuckJobsAfter = 5 * time.Minute
	// DefaultSoftStopTimeout is how long Stop lets running jobs finish before
	// cancelling them; cancelled jobs go back to the queue.
	DefaultSoftStopTimeout = 10 * time.Second
)

// Options tunes a Jobs client. The zero value is usable.
type Options struct {
	// MaxAttempts is how many times a job runs before it is discarded
	// (default 10). It is stored on each job when it is inserted.
	MaxAttempts int
	// MaxWorkers is how many jobs this process runs at once (default 10).
	MaxWorkers int
	// RetryPolicy schedules the next attempt after a failure. Nil is River's
	// default: exponential backoff, attempt^4 seconds with jitter (1 s,
	// 16 s, 81 s, ... about 7 hours over 10 attempts).
	RetryPolicy river.ClientRetryPolicy
	// FetchCooldown and FetchPollInterval are River's (defaults 100 ms and
	// 1 s). New jobs are normally announced by LISTEN/NOTIFY (PostgreSQL,
	// with ListenURL) or River's 50 ms notification poll (SQLite); the poll
	// interval is the fallback. FetchPollInterval must be >= FetchCooldown.
	FetchCooldown, FetchPollInterval time.Duration
	// JobTimeout (default 1 min), RescueStuckJobsAfter (default 5 min,
	// must exceed JobTimeout) and SoftStopTimeout (default 10 s): see the
	// Default constants.
	JobTimeout, RescueStuckJobsAfter, SoftStopTimeout time.Duration
	// ListenURL is the PostgreSQL URL of the database, used to open one pgx
	// connection for LISTEN (the rest goes through the *sql.DB). Empty on
	// PostgreSQL means poll-only: a new job waits up to FetchPollInterval.
	// Ignored on SQLite and by insert-only clients.
	ListenURL string
	// Logger receives River's logs; nil discards them.
	Logger *slog.Logger
	// Tune, when set, edits River's configuration last (tests use it for
	// settings Options does not name, such as TestOnly).
	Tune func(*river.Config)
}

// Jobs is a River client on the application database: it queues jobs, and
// works them when it was created with a Deliverer.
type Jobs struct {
	client   *river.Client[*sql.Tx]
	db       *database.DB
	listener *pgxpool.Pool
	working  bool
	softStop time.Duration
	log      *slog.Logger
}

var _ notify.Queue = (*Jobs)(nil)

// New returns a client for db. With a non-nil Deliverer it can work jobs
// (Start); with nil it only inserts them (WORKER=off, command-line tools).
// It does not touch the database; River's tables must exist (Migrator).
func New(db *database.DB, d Deliverer, o Options) (*Jobs, error) {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	j := &Jobs{db: db, working: d != nil, softStop: o.SoftStopTimeout, log: log}
	if j.softStop <= 0 {
		j.softStop = DefaultSoftStopTimeout
	}
	cfg := &river.Config{
		Logger:               log,
		MaxAttempts:          orDefault(o.MaxAttempts, DefaultMaxAttempts),
		RetryPolicy:          o.RetryPolicy,
		FetchCooldown:        o.FetchCooldown,
		FetchPollInterval:    o.FetchPollInterval,
		JobTimeout:           orDefault(o.JobTimeout, DefaultJobTimeout),
		RescueStuckJobsAfter: orDefault(o.RescueStuckJobsAfter, DefaultRescueStuckJobsAfter),
		// Failed jobs stay visible (jobs list) for a week, finished ones a
		// day; sent_emails keeps the lasting record of what was sent.
		CancelledJobRetentionPeriod: 7 * 24 * time.Hour,
		DiscardedJobRetentionPeriod: 7 * 24 * time.Hour,
	}
	if j.working {
		workers := river.NewWorkers()
		if err := river.AddWorkerSafely(workers, &emailWorker{deliver: d, db: db, log: log}); err != nil {
			return nil, fmt.Errorf("jobs: %w", err)
		}
		cfg.Workers = workers
		cfg.Queues = map[string]river.QueueConfig{
			river.QueueDefault: {MaxWorkers: orDefault(o.MaxWorkers, DefaultMaxWorkers)},
		}
	} else {
		// Another process (lenticular worker) has the workers.
		cfg.SkipUnknownJobCheck = true
	}

	var driver riverdriver.Driver[*sql.Tx]
	switch db.Dialect {
	case database.DialectSQLite:
		driver = riversqlite.New(db.SQL)
	case database.DialectPostgres:
		if j.working && o.ListenURL != "" {
			pool, err := listenerPool(o.ListenURL)
			if err != nil {
				return nil, err
			}
			j.listener = pool
			driver = riverdatabasesql.NewWithPgxListener(db.SQL, pool)
		} else {
			if j.working {
				log.Warn("jobs: no ListenURL; polling for new jobs", "interval", orDefault(cfg.FetchPollInterval, time.Second))
			}
			driver = riverdatabasesql.New(db.SQL)
		}
	default:
		return nil, fmt.Errorf("jobs: unsupported dialect %q", db.Dialect)
	}
	if o.Tune != nil {
		o.Tune(cfg)
	}
	client, err := river.NewClient(driver, cfg)
	if err != nil {
		j.Close()
		return nil, fmt.Errorf("jobs: %w", err)
	}
	j.client = client
	return j, nil
}

// listenerPool opens (lazily) the pgx pool River hijacks its LISTEN
// connection from. One connection is all a client needs.
func listenerPool(url string) (*pgxpool.Pool, error) {
	pc, err := pgxpool.ParseConfig(url) // pgx masks the password in its errors
	if err != nil {
		return nil, fmt.Errorf("jobs: listener URL: %w", err)
	}
	pc.MaxConns, pc.MinConns = 1, 0
	if pc.ConnConfig.ConnectTimeout == 0 {
		pc.ConnConfig.ConnectTimeout = database.DefaultConnectTimeout
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), pc)
	if err != nil {
		return nil, fmt.Errorf("jobs: listener pool: %w", err)
	}
	return pool, nil
}

// Working reports whether this client runs jobs (it has a Deliverer).
func (j *Jobs) Working() bool { return j.working }

// Start begins working jobs; it is a no-op for an insert-only client. River
// keeps running until Stop, whatever happens to ctx: River hard-stops when
// its start context ends, so only ctx's values are kept.
func (j *Jobs) Start(ctx context.Context) error {
	if !j.working {
		return nil
	}
	if err := j.client.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("start jobs: %w", err)
	}
	return nil
}

// Stop stops fetching jobs and lets running ones finish for up to
// SoftStopTimeout (or until ctx ends, if sooner); then it cancels the rest,
// which go back to the queue for the next worker, and waits for them to
// return until ctx ends. A job whose worker is killed outright stays
// "running" until River's rescuer re-queues it (RescueStuckJobsAfter).
func (j *Jobs) Stop(ctx context.Context) error {
	if !j.working {
		return nil
	}
	soft, cancel := context.WithTimeout(ctx, j.softStop)
	defer cancel()
	err := j.client.Stop(soft)
	if err == nil {
		return nil
	}
	if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("stop jobs: %w", err)
	}
	j.log.Warn("jobs: running jobs did not finish in time; cancelling them", "soft_stop_timeout", j.softStop)
	if err := j.client.StopAndCancel(ctx); err != nil {
		return fmt.Errorf("stop jobs: %w", err)
	}
	return nil
}

// Close releases the LISTEN connection pool. Call it after Stop.
func (j *Jobs) Close() {
	if j.listener != nil {
		j.listener.Close()
	}
}

// Enqueue queues e as a send_email job. When ctx carries a transaction
// (database.DB.InTx) the job is inserted in it; otherwise it is inserted
// on its own. With a non-empty e.Key, an Email with the same Key that is
// already queued, running or finished (and not yet cleaned up) is not queued
// again, and the call succeeds.
func (j *Jobs) Enqueue(ctx context.Context, e notify.Email) error {
	args, opts, err := insertArgs(e)
	if err != nil {
		return err
	}
	if tx, ok := database.SQLTx(ctx); ok {
		_, err = j.client.InsertTx(ctx, tx, args, opts)
	} else {
		_, err = j.client.Insert(ctx, args, opts)
	}
	if err != nil {
		return fmt.Errorf("enqueue email: %w", err)
	}
	return nil
}

// EnqueueMany queues several emails in one statement batch (in ctx's
// transaction when it carries one, else in a transaction of its own) and
// returns how many were queued; the rest were duplicates of a Key.
func (j *Jobs) EnqueueMany(ctx context.Context, emails []notify.Email) (queued int, err error) {
	if len(emails) == 0 {
		return 0, nil
	}
	params := make([]river.InsertManyParams, len(emails))
	for i, e := range emails {
		args, opts, err := insertArgs(e)
		if err != nil {
			return 0, err
		}
		params[i] = river.InsertManyParams{Args: args, InsertOpts: opts}
	}
	var res []*rivertype.JobInsertResult
	if tx, ok := database.SQLTx(ctx); ok {
		res, err = j.client.InsertManyTx(ctx, tx, params)
	} else {
		res, err = j.client.InsertMany(ctx, params)
	}
	if err != nil {
		return 0, fmt.Errorf("enqueue emails: %w", err)
	}
	for _, r := range res {
		if !r.UniqueSkippedAsDuplicate {
			queued++
		}
	}
	return queued, nil
}

// insertArgs validates e and builds its job arguments and options.
func insertArgs(e notify.Email) (emailArgs, *river.InsertOpts, error) {
	if strings.TrimSpace(e.To) == "" || strings.TrimSpace(e.Template) == "" {
		return emailArgs{}, nil, errors.New("enqueue email: To and Template are required")
	}
	opts := &river.InsertOpts{}
	if e.Key != "" {
		// Unique by Key alone (the only field tagged river:"unique"), in
		// every state: a Key never queues a second job while River keeps the
		// first, and sent_emails covers the time after it is cleaned up.
		opts.UniqueOpts = river.UniqueOpts{ByArgs: true, ByState: rivertype.JobStates()}
	}
	return emailArgs(e), opts, nil
}

// Job is one job as `lenticular jobs list` shows it.
type Job struct {
	ID          int64
	Kind        string
	State       string
	Attempt     int
	MaxAttempts int
	Errors      int
	LastError   string // the most recent attempt's error, if any
	CreatedAt   time.Time
	ScheduledAt time.Time // next run, for available, scheduled and retryable jobs
}

// States names the states List accepts; "failed" is cancelled + discarded
// (jobs that will not run again on their own).
var States = []string{"failed", "available", "running", "completed", "cancelled", "discarded", "retryable", "scheduled", "pending"}

// MaxListLimit is the most jobs one List returns.
const MaxListLimit = 10_000

// List returns up to limit jobs (1..MaxListLimit; 0 means 50), newest first,
// in the given state ("" for every state; see States).
func (j *Jobs) List(ctx context.Context, state string, limit int) ([]Job, error) {
	if limit == 0 {
		limit = 50
	}
	if limit < 1 || limit > MaxListLimit {
		return nil, fmt.Errorf("list jobs: limit %d is not between 1 and %d", limit, MaxListLimit)
	}
	params := river.NewJobListParams().First(limit).OrderBy(river.JobListOrderByID, river.SortOrderDesc)
	switch state {
	case "":
		params = params.States(rivertype.JobStates()...)
	case "failed":
		params = params.States(rivertype.JobStateCancelled, rivertype.JobStateDiscarded)
	default:
		found := false
		for _, s := range rivertype.JobStates() {
			if string(s) == state {
				params, found = params.States(s), true
			}
		}
		if !found {
			return nil, fmt.Errorf("list jobs: unknown state %q (want one of %s)", state, strings.Join(States, ", "))
		}
	}
	res, err := j.client.JobList(ctx, params)
	if err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	out := make([]Job, 0, len(res.Jobs))
	for _, r := range res.Jobs {
		job := Job{
			ID: r.ID, Kind: r.Kind, State: string(r.State),
			Attempt: r.Attempt, MaxAttempts: r.MaxAttempts, Errors: len(r.Errors),
			CreatedAt: r.CreatedAt, ScheduledAt: r.ScheduledAt,
		}
		if n := len(r.Errors); n > 0 {
			job.LastError = r.Errors[n-1].Error
		}
		out = append(out, job)
	}
	return out, nil
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
