package jobs

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"

	"github.com/lenticular/lenticular/modules/notify"
	"github.com/lenticular/lenticular/platform/database"
)

// KindSendEmail is the kind of the job that delivers one notify.Email.
const KindSendEmail = "send_email"

// Deliverer renders and sends one email. messageID is stable across the
// attempts of one job, so a provider (or the file mailer) can recognise a
// duplicate. An error wrapping notify.ErrPermanent stops the retries.
type Deliverer interface {
	Deliver(ctx context.Context, e notify.Email, messageID string) error
}

// emailArgs is a notify.Email as a job's arguments: the same JSON, with Key
// marked as the only field that makes two jobs the same.
type emailArgs struct {
	To       string            `json:"to"`
	Template string            `json:"template"`
	Data     map[string]string `json:"data,omitempty"`
	Key      string            `json:"key,omitempty" river:"unique"`
}

func (emailArgs) Kind() string { return KindSendEmail }

// recordTimeout bounds recording a delivery. It runs even when the job's
// context was cancelled (shutdown) after the message went out, so that the
// send is not repeated.
const recordTimeout = 10 * time.Second

type emailWorker struct {
	river.WorkerDefaults[emailArgs]
	deliver Deliverer
	db      *database.DB
	log     *slog.Logger
}

// Work delivers the email unless sent_emails says this job (or an earlier
// job with the same Key) already did, then records the delivery and
// completes the job in one short transaction. A crash between the send and
// that commit sends again on the next attempt (at-least-once; the stable
// message id lets the receiving side de-duplicate); after the commit, the
// job is finished and never runs again.
func (w *emailWorker) Work(ctx context.Context, job *river.Job[emailArgs]) error {
	e := notify.Email(job.Args)
	keyHash := hashKey(e.Key)
	sent, err := w.alreadySent(ctx, job.ID, keyHash)
	if err != nil {
		return err
	}
	if sent {
		w.log.InfoContext(ctx, "email already sent; not sending again", "job_id", job.ID, "template", e.Template)
		return nil
	}
	if err := w.deliver.Deliver(ctx, e, messageID(job.ID, job.CreatedAt)); err != nil {
		if errors.Is(err, notify.ErrPermanent) {
			return river.JobCancel(err)
		}
		return err
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	if err := w.record(rctx, job, keyHash); err != nil {
		w.log.ErrorContext(ctx, "email sent but not recorded; the next attempt sends it again",
			"job_id", job.ID, "template", e.Template, "error", err.Error())
		return err
	}
	return nil
}

func (w *emailWorker) alreadySent(ctx context.Context, jobID int64, keyHash sql.NullString) (bool, error) {
	var n int
	q := rebind(w.db.Dialect, "SELECT COUNT(*) FROM sent_emails WHERE job_id = ? OR key_hash = ?")
	if err := w.db.SQL.QueryRowContext(ctx, q, jobID, keyHash).Scan(&n); err != nil {
		return false, fmt.Errorf("check sent_emails: %w", err)
	}
	return n > 0, nil
}

func (w *emailWorker) record(ctx context.Context, job *river.Job[emailArgs], keyHash sql.NullString) error {
	tx, err := w.db.SQL.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("record sent email: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	q := rebind(w.db.Dialect, "INSERT INTO sent_emails (job_id, key_hash) VALUES (?, ?) ON CONFLICT (job_id) DO NOTHING")
	if _, err := tx.ExecContext(ctx, q, job.ID, keyHash); err != nil {
		return fmt.Errorf("record sent email: %w", err)
	}
	// The job is completed by the same commit, so it cannot run again.
	switch w.db.Dialect {
	case database.DialectSQLite:
		_, err = river.JobCompleteTx[*riversqlite.Driver](ctx, tx, job)
	default:
		_, err = river.JobCompleteTx[*riverdatabasesql.Driver](ctx, tx, job)
	}
	if err != nil {
		return fmt.Errorf("complete job: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("record sent email: %w", err)
	}
	return nil
}

// messageID is stable for one job across its attempts and, with the job's
// creation time, does not repeat when a database is recreated.
func messageID(jobID int64, created time.Time) string {
	return fmt.Sprintf("job-%d.%d", jobID, created.UnixMicro())
}

// hashKey stores an idempotency key without the address it contains.
func hashKey(key string) sql.NullString {
	if key == "" {
		return sql.NullString{}
	}
	sum := sha256.Sum256([]byte(key))
	return sql.NullString{String: hex.EncodeToString(sum[:]), Valid: true}
}

// rebind turns ? placeholders into PostgreSQL's $n.
func rebind(d database.Dialect, q string) string {
	if d != database.DialectPostgres {
		return q
	}
	out := make([]byte, 0, len(q)+8)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			out = fmt.Appendf(out, "$%d", n)
			continue
		}
		out = append(out, q[i])
	}
	return string(out)
}
