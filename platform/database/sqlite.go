package database

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/glebarez/sqlite" // pure-Go SQLite (modernc); registers the "sqlite" database/sql driver
	"gorm.io/gorm"
)

// sqliteParams are applied by the driver on every new connection. The busy
// timeout comes first so that switching to WAL waits for another process
// holding the file instead of failing. _txlock=immediate makes BEGIN take the
// write lock up front, so a transaction never fails half-way with
// SQLITE_BUSY when it upgrades from reading to writing.
const sqliteParams = "_pragma=busy_timeout(5000)" +
	"&_pragma=journal_mode(WAL)" +
	"&_pragma=synchronous(NORMAL)" +
	"&_pragma=foreign_keys(1)" +
	"&_txlock=immediate"

// sqliteDSN returns the driver DSN for the database file in dataDir.
func sqliteDSN(dataDir string) string {
	return filepath.Join(dataDir, SQLiteFileName) + "?" + sqliteParams
}

func openSQLite(ctx context.Context, o Options) (*DB, error) {
	if o.DataDir == "" {
		return nil, fmt.Errorf("DATA_DIR: empty; embedded SQLite (DATABASE_URL unset) needs a directory for %s", SQLiteFileName)
	}
	if strings.ContainsRune(o.DataDir, '?') {
		return nil, fmt.Errorf("DATA_DIR: %q contains '?', which the SQLite driver would read as the start of its options", o.DataDir)
	}
	if err := os.MkdirAll(o.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("DATA_DIR: create %s: %w", o.DataDir, err)
	}
	path := filepath.Join(o.DataDir, SQLiteFileName)

	sqlDB, err := sql.Open(sqlite.DriverName, sqliteDSN(o.DataDir))
	if err != nil {
		return nil, fmt.Errorf("open SQLite %s: %w", path, err)
	}
	// Exactly one connection: SQLite allows one writer at a time, so with a
	// single connection concurrent writers queue in database/sql instead of
	// failing with "database is locked" (River also recommends this). The
	// connection is kept for the life of the process.
	sqlDB.SetMaxOpenConns(1)
	sqlDB.SetMaxIdleConns(1)
	sqlDB.SetConnMaxLifetime(0)
	sqlDB.SetConnMaxIdleTime(0)

	// The first connection applies the pragmas; fail here, not on first use.
	if err := sqlDB.PingContext(ctx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("open SQLite %s: %w", path, err)
	}
	gdb, err := gorm.Open(&sqlite.Dialector{Conn: newFIFOPool(sqlDB)}, gormConfig(o))
	if err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("open SQLite %s: %w", path, err)
	}
	return &DB{Gorm: gdb, SQL: sqlDB, Dialect: DialectSQLite}, nil
}
