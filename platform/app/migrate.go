package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"
	"time"

	"github.com/lenticular/lenticular/adapters/gormdb"
	"github.com/lenticular/lenticular/platform/config"
	"github.com/lenticular/lenticular/platform/database"
)

// Migrate runs `lenticular migrate up|down|status` and prints what it did.
func Migrate(ctx context.Context, cfg *config.Config, log *slog.Logger, action string, out io.Writer) error {
	switch action {
	case "up", "down", "status":
	default:
		return fmt.Errorf("migrate: unknown action %q (want up, down or status)", action)
	}
	db, err := database.Open(ctx, database.Options{
		URL: cfg.DatabaseURL.Reveal(), DataDir: cfg.DataDir,
		MaxOpenConns: 2, MaxIdleConns: 1, StatementTimeout: cfg.DBStatementTimeout, Logger: log,
	})
	if err != nil {
		return err
	}
	defer db.Close()
	m, err := gormdb.NewMigrator(db)
	if err != nil {
		return err
	}
	switch action {
	case "up":
		applied, err := m.Up(ctx)
		for _, a := range applied {
			fmt.Fprintf(out, "applied %s (%s)\n", a.Name, a.Duration.Round(time.Millisecond))
		}
		if err != nil {
			return err
		}
		n, err := jobsMigrateUp(ctx, db, out)
		if err == nil && len(applied)+n == 0 {
			fmt.Fprintln(out, "no pending migrations")
		}
		return err
	case "down":
		a, err := m.Down(ctx)
		if a != nil {
			fmt.Fprintf(out, "rolled back %s\n", a.Name)
			return err
		}
		if err != nil {
			return err
		}
		// Nothing of the application's left: River's tables go last.
		n, err := jobsMigrateDown(ctx, db, out)
		if err == nil && n == 0 {
			fmt.Fprintln(out, "nothing to roll back")
		}
		return err
	}
	status, err := m.Status(ctx)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "VERSION\tNAME\tAPPLIED AT")
	for _, s := range status {
		at := "pending"
		if s.Applied {
			at = s.AppliedAt.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(w, "%d\t%s\t%s\n", s.Version, s.Name, at)
	}
	if err := jobsMigrateStatus(ctx, db, w); err != nil {
		return err
	}
	return w.Flush()
}
