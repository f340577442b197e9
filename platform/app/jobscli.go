package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/lenticular/lenticular/adapters/jobs"
	"github.com/lenticular/lenticular/modules/notify"
	"github.com/lenticular/lenticular/platform/config"
	"github.com/lenticular/lenticular/platform/database"
)

// openJobs opens the database and an insert-only job client for a
// command-line tool, refusing a database whose job tables are missing.
func openJobs(ctx context.Context, cfg *config.Config, log *slog.Logger) (*database.DB, *jobs.Jobs, error) {
	db, err := database.Open(ctx, database.Options{
		URL: cfg.DatabaseURL.Reveal(), DataDir: cfg.DataDir,
		MaxOpenConns: 2, MaxIdleConns: 1, StatementTimeout: cfg.DBStatementTimeout, Logger: log,
	})
	if err != nil {
		return nil, nil, err
	}
	m, err := jobs.NewMigrator(db, nil)
	if err == nil {
		var n int
		if n, err = m.Pending(ctx); err == nil && n > 0 {
			err = errors.New("the job tables are missing or old; run lenticular migrate up")
		}
	}
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	j, err := jobs.New(db, nil, jobs.Options{Logger: log})
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, j, nil
}

// JobsList runs `lenticular jobs list`: a table of the newest jobs, in one
// state or all ("failed" is cancelled and discarded).
func JobsList(ctx context.Context, cfg *config.Config, log *slog.Logger, state string, limit int, out io.Writer) error {
	db, j, err := openJobs(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close()
	defer j.Close()
	list, err := j.List(ctx, state, limit)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tKIND\tSTATE\tATTEMPT\tERRORS\tCREATED\tLAST ERROR")
	for _, jb := range list {
		fmt.Fprintf(w, "%d\t%s\t%s\t%d/%d\t%d\t%s\t%s\n", jb.ID, jb.Kind, jb.State, jb.Attempt, jb.MaxAttempts,
			jb.Errors, jb.CreatedAt.UTC().Format(time.RFC3339), oneLine(jb.LastError, 80))
	}
	if len(list) == 0 {
		fmt.Fprintln(w, "(no jobs)")
	}
	return w.Flush()
}

func oneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > max {
		return string(r[:max-1]) + "…"
	}
	return s
}

// MailBatch is `lenticular mail batch`.
type MailBatch struct {
	Template string
	File     string            // one address per line, or CSV with an email column
	BatchID  string            // default: jobs.BatchID of the file and template
	Data     map[string]string // template data for every recipient
	// Progress, when set, is called as recipients are queued.
	Progress func(done, total int)
}

// maxBatchFile bounds the recipient file read into memory (about a
// million addresses).
const maxBatchFile = 64 << 20

// RunMailBatch queues one send_email job per valid, distinct recipient and
// prints a summary to out and the skipped lines to errOut. Every recipient
// is rendered first, so a missing template or template field stops the run
// before anything is queued. Running the same batch again queues only what
// an interrupted run did not.
func RunMailBatch(ctx context.Context, cfg *config.Config, log *slog.Logger, b MailBatch, out, errOut io.Writer) error {
	content, err := readBatchFile(b.File)
	if err != nil {
		return err
	}
	r, err := notify.NewRenderer(cfg.MailFrom, cfg.FrontendURL)
	if err != nil {
		return err
	}
	if !slices.Contains(r.Templates(), b.Template) {
		return fmt.Errorf("--template: unknown template %q (one of %s)", b.Template, strings.Join(r.Templates(), ", "))
	}
	rec, err := jobs.ParseRecipients(content)
	if err != nil {
		return fmt.Errorf("%s: %w", b.File, err)
	}
	for i, inv := range rec.Invalid {
		if i == 10 {
			fmt.Fprintf(errOut, "... and %d more invalid lines\n", len(rec.Invalid)-i)
			break
		}
		fmt.Fprintf(errOut, "%s:%d: skipped, not a valid address: %q\n", b.File, inv.Line, oneLine(inv.Value, 80))
	}
	if len(rec.List) == 0 {
		return fmt.Errorf("%s: no valid recipients", b.File)
	}
	batch := jobs.Batch{ID: b.BatchID, Template: b.Template, Data: b.Data, Recipients: rec.List, Progress: b.Progress}
	if batch.ID == "" {
		batch.ID = jobs.BatchID(content, b.Template)
	}
	for _, rc := range rec.List {
		data := make(map[string]string, len(b.Data)+len(rc.Data))
		for k, v := range b.Data {
			data[k] = v
		}
		for k, v := range rc.Data {
			data[k] = v
		}
		if _, err := r.Render(notify.Email{To: rc.Email, Template: b.Template, Data: data}); err != nil {
			return fmt.Errorf("%s:%d: %w", b.File, rc.Line, err)
		}
	}

	db, j, err := openJobs(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close()
	defer j.Close()
	res, err := j.EnqueueBatch(ctx, batch)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "queued %d, skipped %d duplicates, %d invalid (batch %s", res.Queued,
		rec.Duplicates+res.AlreadyQueued, len(rec.Invalid), batch.ID)
	if res.AlreadyQueued > 0 {
		fmt.Fprintf(out, "; %d were queued by an earlier run", res.AlreadyQueued)
	}
	fmt.Fprintln(out, ")")
	return nil
}

func readBatchFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--to: %w", err)
	}
	defer f.Close()
	content, err := io.ReadAll(io.LimitReader(f, maxBatchFile+1))
	if err != nil {
		return nil, fmt.Errorf("--to: %w", err)
	}
	if len(content) > maxBatchFile {
		return nil, fmt.Errorf("--to: %s is larger than %d MiB; split it", path, maxBatchFile>>20)
	}
	return content, nil
}
