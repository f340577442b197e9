package gormdb

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"time"

	"github.com/pressly/goose/v3"
	goosedb "github.com/pressly/goose/v3/database"
	"github.com/pressly/goose/v3/lock"

	"github.com/lenticular/lenticular/platform/database"
)

// migrationFiles holds the versioned SQL migrations, one directory per
// dialect (see migrations/README.md).
//
//go:embed migrations/postgres/*.sql migrations/sqlite/*.sql
var migrationFiles embed.FS

// Applied is one migration that was run, up or down.
type Applied struct {
	Version  int64
	Name     string // file name, e.g. "00001_app_meta.sql"
	Duration time.Duration
}

// MigrationStatus is one known migration and whether the database has it.
type MigrationStatus struct {
	Version   int64
	Name      string
	Applied   bool
	AppliedAt time.Time // zero when not applied
}

// Migrator applies the embedded migrations of the database's dialect. It
// uses goose's Provider and keeps no global goose state. On PostgreSQL, Up,
// Down and Status hold an advisory lock, so several instances starting at
// once apply each migration exactly once.
type Migrator struct {
	provider *goose.Provider
	store    goosedb.Store
	db       *database.DB
}

// NewMigrator returns a Migrator for db's dialect.
func NewMigrator(db *database.DB) (*Migrator, error) {
	var (
		dialect goose.Dialect
		dir     string
		opts    = []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	)
	switch db.Dialect {
	case database.DialectPostgres:
		dialect, dir = goose.DialectPostgres, "migrations/postgres"
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, fmt.Errorf("migrations: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	case database.DialectSQLite:
		// One connection already serialises everything on SQLite.
		dialect, dir = goose.DialectSQLite3, "migrations/sqlite"
	default:
		return nil, fmt.Errorf("migrations: unsupported dialect %q", db.Dialect)
	}
	fsys, err := fs.Sub(migrationFiles, dir)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	p, err := goose.NewProvider(dialect, db.SQL, fsys, opts...)
	if err != nil {
		return nil, fmt.Errorf("migrations for %s: %w", db.Dialect, err)
	}
	store, err := goosedb.NewStore(dialect, goose.DefaultTablename)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	return &Migrator{provider: p, store: store, db: db}, nil
}

// Up applies every pending migration in order and returns those it ran. If
// one fails, the ones before it stay applied and are returned with the error.
func (m *Migrator) Up(ctx context.Context) ([]Applied, error) {
	res, err := m.provider.Up(ctx)
	if err != nil {
		var pe *goose.PartialError
		if errors.As(err, &pe) {
			return toApplied(pe.Applied), fmt.Errorf("migrate up: %w", err)
		}
		return nil, fmt.Errorf("migrate up: %w", err)
	}
	return toApplied(res), nil
}

// Down rolls back the most recently applied migration. It returns nil, nil
// when no migration is applied.
func (m *Migrator) Down(ctx context.Context) (*Applied, error) {
	res, err := m.provider.Down(ctx)
	if errors.Is(err, goose.ErrNoNextVersion) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("migrate down: %w", err)
	}
	a := toApplied([]*goose.MigrationResult{res})[0]
	return &a, nil
}

// Status lists every embedded migration in version order.
func (m *Migrator) Status(ctx context.Context) ([]MigrationStatus, error) {
	st, err := m.provider.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("migration status: %w", err)
	}
	out := make([]MigrationStatus, 0, len(st))
	for _, s := range st {
		ms := MigrationStatus{
			Version: s.Source.Version,
			Name:    path.Base(s.Source.Path),
			Applied: s.State == goose.StateApplied,
		}
		if ms.Applied {
			ms.AppliedAt = s.AppliedAt
		}
		out = append(out, ms)
	}
	return out, nil
}

// Pending returns how many embedded migrations the database has not applied
// yet; 0 means the schema is current. It takes no migration lock, so it
// answers promptly while another instance is migrating (readiness checks).
func (m *Migrator) Pending(ctx context.Context) (int, error) {
	has, err := m.provider.HasPending(ctx)
	if err != nil {
		return 0, fmt.Errorf("pending migrations: %w", err)
	}
	if !has {
		return 0, nil
	}
	rows, err := m.store.ListMigrations(ctx, m.db.SQL)
	if err != nil {
		return 0, fmt.Errorf("pending migrations: %w", err)
	}
	applied := make(map[int64]bool, len(rows))
	for _, r := range rows {
		if r.IsApplied {
			applied[r.Version] = true
		}
	}
	n := 0
	for _, s := range m.provider.ListSources() {
		if !applied[s.Version] {
			n++
		}
	}
	return n, nil
}

func toApplied(res []*goose.MigrationResult) []Applied {
	out := make([]Applied, 0, len(res))
	for _, r := range res {
		out = append(out, Applied{
			Version:  r.Source.Version,
			Name:     path.Base(r.Source.Path),
			Duration: r.Duration,
		})
	}
	return out
}
