package jobs

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/lenticular/lenticular/platform/database"
)

// Migration is one of River's own schema migrations.
type Migration struct {
	Version  int
	Name     string
	Applied  bool          // Status only
	Duration time.Duration // Up and Down only
}

// Migrator applies River's schema (its job, queue, leader and migration
// tables), which River versions itself, separately from the application's
// goose migrations. `lenticular migrate up` runs it after goose;
// `lenticular migrate down` leaves River's tables alone until every
// application migration is rolled back, and then removes them all at once.
type Migrator struct {
	m  *rivermigrate.Migrator[*sql.Tx]
	db *database.DB
}

// riverMigrateLock is the PostgreSQL advisory lock key that serialises
// instances migrating River's schema at the same time ("rivermig").
const riverMigrateLock int64 = 0x7269_7665_726d_6967

// NewMigrator returns a Migrator for db's dialect. log may be nil.
func NewMigrator(db *database.DB, log *slog.Logger) (*Migrator, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var driver riverdriver.Driver[*sql.Tx]
	switch db.Dialect {
	case database.DialectPostgres:
		driver = riverdatabasesql.New(db.SQL)
	case database.DialectSQLite:
		driver = riversqlite.New(db.SQL)
	default:
		return nil, fmt.Errorf("job migrations: unsupported dialect %q", db.Dialect)
	}
	m, err := rivermigrate.New(driver, &rivermigrate.Config{Logger: log})
	if err != nil {
		return nil, fmt.Errorf("job migrations: %w", err)
	}
	return &Migrator{m: m, db: db}, nil
}

// Up applies River's pending migrations and returns them.
func (m *Migrator) Up(ctx context.Context) ([]Migration, error) {
	return m.migrate(ctx, rivermigrate.DirectionUp, nil)
}

// Down removes River's schema entirely (every job with it) and returns the
// migrations it rolled back; none when River's tables are absent.
func (m *Migrator) Down(ctx context.Context) ([]Migration, error) {
	return m.migrate(ctx, rivermigrate.DirectionDown, &rivermigrate.MigrateOpts{TargetVersion: -1})
}

func (m *Migrator) migrate(ctx context.Context, dir rivermigrate.Direction, opts *rivermigrate.MigrateOpts) ([]Migration, error) {
	var (
		res *rivermigrate.MigrateResult
		err error
	)
	switch m.db.Dialect {
	case database.DialectPostgres:
		res, err = m.migratePostgres(ctx, dir, opts)
	default:
		res, err = m.migrateInTx(ctx, dir, opts)
	}
	if err != nil {
		return nil, fmt.Errorf("job migrations %s: %w", dir, err)
	}
	out := make([]Migration, 0, len(res.Versions))
	for _, v := range res.Versions {
		out = append(out, Migration{Version: v.Version, Name: v.Name, Applied: dir == rivermigrate.DirectionUp, Duration: v.Duration})
	}
	return out, nil
}

// migratePostgres holds an advisory lock while River migrates, so that of
// several instances starting at once one migrates and the others wait and
// then find nothing to do. The lock belongs to a session of its own because
// River needs a transaction per migration (a new enum value cannot be used
// in the transaction that adds it).
func (m *Migrator) migratePostgres(ctx context.Context, dir rivermigrate.Direction, opts *rivermigrate.MigrateOpts) (*rivermigrate.MigrateResult, error) {
	conn, err := m.db.SQL.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", riverMigrateLock); err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", riverMigrateLock) //nolint:errcheck // closing the session frees it too
	return m.m.Migrate(ctx, dir, opts)
}

// migrateInTx applies everything in one transaction: on SQLite, BEGIN
// IMMEDIATE makes every other migrating connection (or process) wait.
func (m *Migrator) migrateInTx(ctx context.Context, dir rivermigrate.Direction, opts *rivermigrate.MigrateOpts) (*rivermigrate.MigrateResult, error) {
	tx, err := m.db.SQL.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	res, err := m.m.MigrateTx(ctx, tx, dir, opts)
	if err != nil {
		return nil, err
	}
	return res, tx.Commit()
}

// Pending returns how many of River's migrations the database lacks.
func (m *Migrator) Pending(ctx context.Context) (int, error) {
	existing, err := m.m.ExistingVersions(ctx)
	if err != nil {
		return 0, fmt.Errorf("pending job migrations: %w", err)
	}
	have := make(map[int]bool, len(existing))
	for _, e := range existing {
		have[e.Version] = true
	}
	n := 0
	for _, v := range m.m.AllVersions() {
		if !have[v.Version] {
			n++
		}
	}
	return n, nil
}

// Status lists River's migrations in version order.
func (m *Migrator) Status(ctx context.Context) ([]Migration, error) {
	existing, err := m.m.ExistingVersions(ctx)
	if err != nil {
		return nil, fmt.Errorf("job migration status: %w", err)
	}
	have := make(map[int]bool, len(existing))
	for _, e := range existing {
		have[e.Version] = true
	}
	all := m.m.AllVersions()
	out := make([]Migration, 0, len(all))
	for _, v := range all {
		out = append(out, Migration{Version: v.Version, Name: v.Name, Applied: have[v.Version]})
	}
	return out, nil
}
