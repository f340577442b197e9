package app

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/lenticular/lenticular/adapters/jobs"
	"github.com/lenticular/lenticular/platform/database"
)

// River versions its own tables (river_job, river_queue, ...) apart from the
// application's goose migrations. `migrate up` applies them after goose;
// `migrate down` leaves them alone while any application migration is
// applied, and removes them (every job with them) only when a down finds
// nothing of the application's left to roll back; `migrate status` lists
// them after the application's.

func jobsMigrateUp(ctx context.Context, db *database.DB, out io.Writer) (int, error) {
	m, err := jobs.NewMigrator(db, nil)
	if err != nil {
		return 0, err
	}
	applied, err := m.Up(ctx)
	for _, a := range applied {
		fmt.Fprintf(out, "applied river %03d %s (%s)\n", a.Version, a.Name, a.Duration.Round(time.Millisecond))
	}
	return len(applied), err
}

func jobsMigrateDown(ctx context.Context, db *database.DB, out io.Writer) (int, error) {
	m, err := jobs.NewMigrator(db, nil)
	if err != nil {
		return 0, err
	}
	removed, err := m.Down(ctx)
	if len(removed) > 0 {
		fmt.Fprintf(out, "rolled back River's job tables (%d migrations)\n", len(removed))
	}
	return len(removed), err
}

// jobsMigrateStatus writes River's rows in the status table's columns.
func jobsMigrateStatus(ctx context.Context, db *database.DB, w io.Writer) error {
	m, err := jobs.NewMigrator(db, nil)
	if err != nil {
		return err
	}
	status, err := m.Status(ctx)
	if err != nil {
		return err
	}
	for _, s := range status {
		at := "pending"
		if s.Applied {
			at = "applied"
		}
		fmt.Fprintf(w, "river %d\triver: %s\t%s\n", s.Version, s.Name, at)
	}
	return nil
}
