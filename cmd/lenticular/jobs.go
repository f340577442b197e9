package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/lenticular/lenticular/adapters/jobs"
	"github.com/lenticular/lenticular/platform/app"
	"github.com/lenticular/lenticular/platform/config"
)

// runJobsCmd is `lenticular jobs list [--state S] [--limit N]`.
func runJobsCmd(args []string, cfg *config.Config, log *slog.Logger, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "list" {
		return usageError{"usage: lenticular jobs list [--state " + strings.Join(jobs.States, "|") + "] [--limit N]"}
	}
	fs := flag.NewFlagSet("jobs list", flag.ContinueOnError)
	fs.SetOutput(stderr)
	state := fs.String("state", "", "only jobs in this state: "+strings.Join(jobs.States, ", ")+" (failed = cancelled + discarded)")
	limit := fs.Int("limit", 50, fmt.Sprintf("at most this many jobs, newest first (1..%d)", jobs.MaxListLimit))
	if err := fs.Parse(args[1:]); err != nil {
		return usageErr(err)
	}
	if fs.NArg() != 0 {
		return usageError{fmt.Sprintf("jobs list takes no arguments, got %q", fs.Args())}
	}
	if *limit < 1 || *limit > jobs.MaxListLimit {
		return usageError{fmt.Sprintf("--limit: %d is not between 1 and %d", *limit, jobs.MaxListLimit)}
	}
	return app.JobsList(context.Background(), cfg, log, *state, *limit, stdout)
}

// runMailCmd is `lenticular mail batch --template NAME --to FILE [--batch ID] [--data k=v ...]`.
func runMailCmd(args []string, cfg *config.Config, log *slog.Logger, stdout, stderr io.Writer) error {
	const use = "usage: lenticular mail batch --template NAME --to FILE [--batch ID] [--data key=value ...]"
	if len(args) == 0 || args[0] != "batch" {
		return usageError{use}
	}
	fs := flag.NewFlagSet("mail batch", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var b app.MailBatch
	data := dataFlag{}
	fs.StringVar(&b.Template, "template", "", "email template name (required)")
	fs.StringVar(&b.File, "to", "", "recipients: one address per line, or CSV with a header row with an email column (required)")
	fs.StringVar(&b.BatchID, "batch", "", "batch id that makes re-runs idempotent (default: SHA-256 of the file and template)")
	fs.Var(data, "data", "template data for every recipient, key=value (repeatable)")
	if err := fs.Parse(args[1:]); err != nil {
		return usageErr(err)
	}
	if fs.NArg() != 0 || b.Template == "" || b.File == "" {
		return usageError{use}
	}
	b.Data = data
	if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		bar := &progressBar{w: stderr}
		b.Progress = bar.update
		defer bar.done()
	}
	return app.RunMailBatch(context.Background(), cfg, log, b, stdout, stderr)
}

// usageErr keeps -h (flag.ErrHelp) as is and makes other flag errors
// usage errors (exit status 2); the flag package already printed them.
func usageErr(err error) error {
	if err == flag.ErrHelp {
		return err
	}
	return usageError{err.Error()}
}

// dataFlag collects repeated --data key=value.
type dataFlag map[string]string

func (d dataFlag) String() string { return "" }

func (d dataFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || strings.TrimSpace(k) == "" {
		return fmt.Errorf("want key=value, got %q", s)
	}
	d[strings.TrimSpace(k)] = v
	return nil
}

// progressBar redraws one terminal line: [=====>    ]  4500/10000  45%.
type progressBar struct {
	w    io.Writer
	mu   sync.Mutex
	last time.Time
	any  bool
}

const barWidth = 30

func (p *progressBar) update(done, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if done < total && time.Since(p.last) < 100*time.Millisecond {
		return
	}
	p.last, p.any = time.Now(), true
	filled := 0
	if total > 0 {
		filled = done * barWidth / total
	}
	bar := strings.Repeat("=", filled)
	if filled < barWidth {
		bar += ">" + strings.Repeat(" ", barWidth-filled-1)
	}
	pct := 100
	if total > 0 {
		pct = done * 100 / total
	}
	fmt.Fprintf(p.w, "\r[%s] %d/%d %3d%%", bar, done, total, pct)
}

func (p *progressBar) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.any {
		fmt.Fprintln(p.w)
	}
}
