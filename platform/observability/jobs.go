package observability

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/getsentry/sentry-go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// JobReporter reports River job failures to Sentry and job outcomes to
// Prometheus. Install it with Configure (for example through
// jobs.Options.Tune) on a client that works jobs.
type JobReporter struct {
	river.MiddlewareDefaults
	Metrics *Metrics // may be nil
	Log     *slog.Logger
}

var (
	_ river.ErrorHandler         = (*JobReporter)(nil)
	_ rivertype.WorkerMiddleware = (*JobReporter)(nil)
)

// Configure installs the reporter as River's error handler and as a worker
// middleware (outcome counts, durations, and a Sentry transaction per job
// when tracing is on).
func (r *JobReporter) Configure(cfg *river.Config) {
	cfg.ErrorHandler = r
	cfg.Middleware = append(cfg.Middleware, r)
}

// Work implements rivertype.WorkerMiddleware.
func (r *JobReporter) Work(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) (err error) {
	start := time.Now()
	hub := sentry.CurrentHub().Clone()
	ctx = sentry.SetHubOnContext(ctx, hub)
	var tx *sentry.Span
	if hub.Client() != nil {
		tx = sentry.StartTransaction(ctx, "job "+job.Kind, sentry.WithOpName("queue.process"),
			sentry.WithTransactionSource(sentry.SourceTask))
		ctx = tx.Context()
	}
	hub.Scope().SetTags(map[string]string{
		"job.kind": job.Kind, "job.id": fmt.Sprint(job.ID), "job.attempt": fmt.Sprint(job.Attempt),
	})
	panicked := true
	defer func() {
		outcome := jobOutcome(job, err)
		if panicked {
			outcome = "panicked"
		}
		r.Metrics.JobWorked(job.Kind, outcome, time.Since(start))
		if tx != nil {
			if outcome == "completed" {
				tx.Status = sentry.SpanStatusOK
			} else {
				tx.Status = sentry.SpanStatusInternalError
			}
			tx.Finish()
		}
	}()
	err = doInner(ctx)
	panicked = false
	return err
}

// jobOutcome names what one attempt's error means for the job.
func jobOutcome(job *rivertype.JobRow, err error) string {
	var cancel *rivertype.JobCancelError
	var snooze *rivertype.JobSnoozeError
	switch {
	case err == nil:
		return "completed"
	case errors.As(err, &snooze):
		return "snoozed"
	case errors.As(err, &cancel):
		return "cancelled"
	case job.Attempt >= job.MaxAttempts:
		return "discarded"
	default:
		return "failed"
	}
}

// HandleError implements river.ErrorHandler: every failed attempt is
// reported, tagged with the job's kind, id and attempt. The job's
// arguments (recipients, message bodies) are never attached.
func (r *JobReporter) HandleError(ctx context.Context, job *rivertype.JobRow, err error) *river.ErrorHandlerResult {
	CaptureError(ctx, err, jobTags(job))
	return nil
}

// HandlePanic implements river.ErrorHandler.
func (r *JobReporter) HandlePanic(ctx context.Context, job *rivertype.JobRow, panicVal any, trace string) *river.ErrorHandlerResult {
	if r.Log != nil {
		r.Log.ErrorContext(ctx, "job panicked", "kind", job.Kind, "job_id", job.ID, "panic", panicVal, "stack", trace)
	}
	CaptureError(ctx, fmt.Errorf("job %s panicked: %v", job.Kind, panicVal), jobTags(job))
	return nil
}

func jobTags(job *rivertype.JobRow) map[string]string {
	return map[string]string{
		"job.kind": job.Kind, "job.id": fmt.Sprint(job.ID), "job.attempt": fmt.Sprint(job.Attempt),
		"job.final": fmt.Sprint(job.Attempt >= job.MaxAttempts),
	}
}

// QueueDepth is a collector of River's queue: jobs per queue and state
// (available, scheduled, retryable, running), read from the river_job
// table at scrape time. Before River's tables exist it reports nothing.
type QueueDepth struct {
	DB      *sql.DB
	Timeout time.Duration // per scrape; default 2s
	desc    *prometheus.Desc
}

// NewQueueDepth returns the collector for db.
func NewQueueDepth(db *sql.DB) *QueueDepth {
	return &QueueDepth{DB: db, desc: prometheus.NewDesc(
		prometheus.BuildFQName(Namespace, "jobs", "queued"),
		"Jobs waiting or running, by queue and state, as of the scrape.",
		[]string{"queue", "state"}, nil)}
}

// Describe implements prometheus.Collector.
func (q *QueueDepth) Describe(ch chan<- *prometheus.Desc) { ch <- q.desc }

// Collect implements prometheus.Collector.
func (q *QueueDepth) Collect(ch chan<- prometheus.Metric) {
	timeout := q.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	rows, err := q.DB.QueryContext(ctx, `SELECT queue, state, COUNT(*) FROM river_job
		WHERE state IN ('available', 'scheduled', 'retryable', 'running') GROUP BY queue, state`)
	if err != nil {
		return
	}
	defer rows.Close()
	seen := map[[2]string]bool{}
	for rows.Next() {
		var queue, state string
		var n float64
		if rows.Scan(&queue, &state, &n) != nil {
			return
		}
		seen[[2]string{queue, state}] = true
		ch <- prometheus.MustNewConstMetric(q.desc, prometheus.GaugeValue, n, queue, state)
	}
	// The default queue's states are always exported, so an alert on
	// available jobs has a series to compare even when the queue is empty.
	for _, state := range []string{"available", "scheduled", "retryable", "running"} {
		if !seen[[2]string{river.QueueDefault, state}] {
			ch <- prometheus.MustNewConstMetric(q.desc, prometheus.GaugeValue, 0, river.QueueDefault, state)
		}
	}
}
