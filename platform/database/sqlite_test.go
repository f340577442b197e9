package database_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/lenticular/lenticular/platform/database"
)

func openSQLite(t *testing.T, dir string, l *slog.Logger) *database.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	db, err := database.Open(ctx, database.Options{DataDir: dir, Logger: l})
	if err != nil {
		t.Fatalf("Open SQLite: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db
}

func TestOpenSQLiteCreatesDataDir(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "nested", "data")
	db := openSQLite(t, dir, nil)

	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatalf("DataDir not created: %v", err)
	}
	if !fi.IsDir() || fi.Mode().Perm()&^0o750 != 0 {
		t.Errorf("DataDir mode = %v, want a directory with at most 0750", fi.Mode())
	}
	if _, err := os.Stat(filepath.Join(dir, database.SQLiteFileName)); err != nil {
		t.Errorf("database file: %v", err)
	}
	if db.Dialect != database.DialectSQLite {
		t.Errorf("Dialect = %q, want %q", db.Dialect, database.DialectSQLite)
	}
	if got := db.SQL.Stats().MaxOpenConnections; got != 1 {
		t.Errorf("MaxOpenConnections = %d, want 1", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := db.Ping(ctx); err != nil {
		t.Errorf("Ping: %v", err)
	}
	var one int
	if err := db.Gorm.WithContext(ctx).Raw("SELECT 1").Scan(&one).Error; err != nil || one != 1 {
		t.Errorf("gorm SELECT 1 = %d, %v", one, err)
	}
}

func TestSQLitePragmasInEffect(t *testing.T) {
	t.Parallel()
	db := openSQLite(t, t.TempDir(), nil)
	tests := []struct {
		pragma string
		want   string
	}{
		{"journal_mode", "wal"},
		{"foreign_keys", "1"},
		{"busy_timeout", "5000"},
		{"synchronous", "1"}, // NORMAL
	}
	for _, tt := range tests {
		t.Run(tt.pragma, func(t *testing.T) {
			var got string
			if err := db.SQL.QueryRow("PRAGMA " + tt.pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if !strings.EqualFold(got, tt.want) {
				t.Errorf("PRAGMA %s = %q, want %q", tt.pragma, got, tt.want)
			}
		})
	}

	t.Run("foreign keys enforced", func(t *testing.T) {
		for _, q := range []string{
			"CREATE TABLE parent (id INTEGER PRIMARY KEY)",
			"CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES parent(id))",
		} {
			if _, err := db.SQL.Exec(q); err != nil {
				t.Fatal(err)
			}
		}
		_, err := db.SQL.Exec("INSERT INTO child (id, parent_id) VALUES (1, 42)")
		if err == nil || !strings.Contains(err.Error(), "FOREIGN KEY") {
			t.Fatalf("insert with a dangling reference: err = %v, want a FOREIGN KEY failure", err)
		}
		// And through gorm, translated to its portable error.
		err = db.Gorm.Exec("INSERT INTO child (id, parent_id) VALUES (1, 42)").Error
		if !errors.Is(err, gorm.ErrForeignKeyViolated) {
			t.Fatalf("gorm error = %v, want gorm.ErrForeignKeyViolated", err)
		}
	})
}

// With _txlock=immediate, BEGIN takes the write lock at once: a second
// connection (another process, say) cannot write until the transaction ends.
func TestSQLiteTransactionsBeginImmediate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := openSQLite(t, dir, nil)
	if _, err := db.SQL.Exec("CREATE TABLE t (v INTEGER)"); err != nil {
		t.Fatal(err)
	}
	tx, err := db.SQL.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()

	// A separate handle on the same file that gives up at once when locked.
	other, err := sql.Open("sqlite", filepath.Join(dir, database.SQLiteFileName)+"?_pragma=busy_timeout(0)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	_, err = other.Exec("INSERT INTO t (v) VALUES (1)")
	if err == nil || !strings.Contains(err.Error(), "locked") && !strings.Contains(err.Error(), "busy") {
		t.Fatalf("write while an empty transaction is open: err = %v, want SQLITE_BUSY (BEGIN was not IMMEDIATE)", err)
	}
}

func TestSQLiteConcurrentWrites(t *testing.T) {
	t.Parallel()
	db := openSQLite(t, t.TempDir(), nil)
	if err := db.Gorm.Exec("CREATE TABLE hits (id INTEGER PRIMARY KEY, n INTEGER NOT NULL, at TIMESTAMP NOT NULL)").Error; err != nil {
		t.Fatal(err)
	}
	const writers = 50
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for i := range writers {
		wg.Go(func() {
			// Read then write in one transaction: the pattern that fails with
			// "database is locked" when transactions start deferred on
			// several connections.
			err := db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
				var count int64
				if err := tx.Table("hits").Count(&count).Error; err != nil {
					return err
				}
				return tx.Exec("INSERT INTO hits (n, at) VALUES (?, ?)", count+int64(i), time.Now()).Error
			})
			if err != nil {
				errs <- fmt.Errorf("writer %d: %w", i, err)
			}
			// And a plain statement outside a transaction.
			if err := db.Gorm.WithContext(ctx).Exec("UPDATE hits SET n = n + 1 WHERE id = 1").Error; err != nil {
				errs <- fmt.Errorf("writer %d update: %w", i, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var count int64
	if err := db.Gorm.Table("hits").Count(&count).Error; err != nil {
		t.Fatal(err)
	}
	if count != writers {
		t.Errorf("rows = %d, want %d", count, writers)
	}
}

func TestOpenRejectsUnsupportedURLs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, url string
		wantInErr string
	}{
		{"sqlite scheme", "sqlite:///var/lib/lenticular.db", `unsupported scheme "sqlite"`},
		{"mysql", "mysql://app:hunter2secret@db:3306/app", `unsupported scheme "mysql"`},
		{"http", "https://example.com/db", `unsupported scheme "https"`},
		{"bare path", "./data/lenticular.db", "not a URL"},
		{"keyword form", "host=db user=app password=hunter2secret", "not a URL"},
		{"file uri", "file:lenticular.db", "not a URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "unused")
			db, err := database.Open(context.Background(), database.Options{URL: tt.url, DataDir: dir})
			if err == nil {
				db.Close()
				t.Fatal("Open succeeded, want an error")
			}
			msg := err.Error()
			for _, want := range []string{"DATABASE_URL", tt.wantInErr, "postgres://", "SQLite"} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not mention %q", msg, want)
				}
			}
			if strings.Contains(msg, "hunter2secret") {
				t.Errorf("error leaks the password: %q", msg)
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("a rejected URL still created DataDir (stat err = %v)", err)
			}
		})
	}
}

func TestOpenSQLiteNeedsDataDir(t *testing.T) {
	t.Parallel()
	_, err := database.Open(context.Background(), database.Options{})
	if err == nil || !strings.Contains(err.Error(), "DATA_DIR") {
		t.Fatalf("err = %v, want one naming DATA_DIR", err)
	}
}

// Failed queries are logged with their SQL but never their arguments.
func TestGormLoggerOmitsArguments(t *testing.T) {
	t.Parallel()
	var buf syncBuffer
	l := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	db := openSQLite(t, t.TempDir(), l)
	checkFailedQueryLog(t, db, &buf)
}

func checkFailedQueryLog(t *testing.T, db *database.DB, buf *syncBuffer) {
	t.Helper()
	const secret = "topsecret-argument-value"
	if err := db.Gorm.Exec("CREATE TABLE creds (id INTEGER PRIMARY KEY, token TEXT NOT NULL UNIQUE)").Error; err != nil {
		t.Fatal(err)
	}
	// A successful query logs nothing.
	if err := db.Gorm.Exec("INSERT INTO creds (id, token) VALUES (?, ?)", 1, secret).Error; err != nil {
		t.Fatal(err)
	}
	if buf.String() != "" {
		t.Fatalf("successful query was logged: %s", buf.String())
	}
	err := db.Gorm.Exec("INSERT INTO creds (id, token) VALUES (?, ?)", 2, secret).Error
	if !errors.Is(err, gorm.ErrDuplicatedKey) {
		t.Fatalf("duplicate insert: err = %v, want gorm.ErrDuplicatedKey", err)
	}
	out := buf.String()
	if !strings.Contains(out, "level=WARN") || !strings.Contains(out, "INSERT INTO creds") {
		t.Errorf("failed query not logged at WARN with its SQL: %q", out)
	}
	if strings.Contains(out, secret) {
		t.Errorf("log contains a query argument: %q", out)
	}
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
