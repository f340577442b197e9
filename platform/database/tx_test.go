package database_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/lenticular/lenticular/platform/database"
	"github.com/lenticular/lenticular/platform/testenv"
)

// The unit of work behaves the same on both dialects.
func TestInTx(t *testing.T) {
	t.Parallel()
	dialects := map[string]func(t *testing.T) *database.DB{
		"sqlite": func(t *testing.T) *database.DB { return openSQLite(t, t.TempDir(), nil) },
		"postgres": func(t *testing.T) *database.DB {
			return openPostgres(t, database.Options{URL: testenv.FreshPostgres(t)})
		},
	}
	for name, open := range dialects {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			db := open(t)
			if err := db.Gorm.Exec("CREATE TABLE notes (v TEXT NOT NULL)").Error; err != nil {
				t.Fatal(err)
			}
			t.Run("plain", func(t *testing.T) { testInTx(t, db) })
			prepared := &database.DB{
				Gorm:    db.Gorm.Session(&gorm.Session{PrepareStmt: true}),
				SQL:     db.SQL,
				Dialect: db.Dialect,
			}
			t.Run("prepared statements", func(t *testing.T) { testInTx(t, prepared) })
			t.Run("after commit", func(t *testing.T) { testAfterCommit(t, db) })
		})
	}
}

func testInTx(t *testing.T, db *database.DB) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	reset := func(t *testing.T) {
		t.Helper()
		if err := db.Gorm.WithContext(ctx).Exec("DELETE FROM notes").Error; err != nil {
			t.Fatal(err)
		}
	}
	notes := func(t *testing.T) []string {
		t.Helper()
		var got []string
		if err := db.Gorm.WithContext(ctx).Raw("SELECT v FROM notes ORDER BY v").Scan(&got).Error; err != nil {
			t.Fatal(err)
		}
		return got
	}
	insertGorm := func(ctx context.Context, v string) error {
		return db.Conn(ctx).Exec("INSERT INTO notes (v) VALUES (?)", v).Error
	}
	// insertSQL writes through the *sql.Tx, as the job queue does.
	insertSQL := func(ctx context.Context, v string) error {
		tx, ok := database.SQLTx(ctx)
		if !ok {
			return errors.New("no *sql.Tx in the context")
		}
		q := "INSERT INTO notes (v) VALUES (?)"
		if db.Dialect == database.DialectPostgres {
			q = "INSERT INTO notes (v) VALUES ($1)"
		}
		_, err := tx.ExecContext(ctx, q, v)
		return err
	}
	boom := errors.New("boom")

	tests := []struct {
		name    string
		fn      func(ctx context.Context) error
		wantErr error
		want    []string
	}{
		{"commit", func(ctx context.Context) error {
			if err := insertGorm(ctx, "a"); err != nil {
				return err
			}
			return insertSQL(ctx, "b")
		}, nil, []string{"a", "b"}},
		{"rollback", func(ctx context.Context) error {
			if err := insertGorm(ctx, "a"); err != nil {
				return err
			}
			if err := insertSQL(ctx, "b"); err != nil {
				return err
			}
			return boom
		}, boom, nil},
		{"reads its own writes", func(ctx context.Context) error {
			if err := insertSQL(ctx, "a"); err != nil {
				return err
			}
			var n int64
			if err := db.Conn(ctx).Raw("SELECT COUNT(*) FROM notes").Scan(&n).Error; err != nil {
				return err
			}
			if n != 1 {
				return errors.New("the transaction does not see its own row")
			}
			return nil
		}, nil, []string{"a"}},
		{"nested failure rolls back the inner block only", func(ctx context.Context) error {
			if err := insertGorm(ctx, "outer"); err != nil {
				return err
			}
			err := db.InTx(ctx, func(ctx context.Context) error {
				if err := insertSQL(ctx, "inner"); err != nil {
					return err
				}
				return boom
			})
			if !errors.Is(err, boom) {
				return errors.New("inner error lost")
			}
			return nil
		}, nil, []string{"outer"}},
		{"nested success commits with the outer", func(ctx context.Context) error {
			if err := db.InTx(ctx, func(ctx context.Context) error { return insertSQL(ctx, "inner") }); err != nil {
				return err
			}
			return insertGorm(ctx, "outer")
		}, nil, []string{"inner", "outer"}},
		{"outer failure undoes a committed inner block", func(ctx context.Context) error {
			if err := db.InTx(ctx, func(ctx context.Context) error { return insertSQL(ctx, "inner") }); err != nil {
				return err
			}
			return boom
		}, boom, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reset(t)
			err := db.InTx(ctx, tt.fn)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("InTx = %v, want %v", err, tt.wantErr)
			}
			got := notes(t)
			if len(got) != len(tt.want) {
				t.Fatalf("rows = %q, want %q", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("rows = %q, want %q", got, tt.want)
				}
			}
		})
	}

	t.Run("panic rolls back", func(t *testing.T) {
		reset(t)
		func() {
			defer func() { _ = recover() }()
			_ = db.InTx(ctx, func(ctx context.Context) error {
				if err := insertSQL(ctx, "a"); err != nil {
					return err
				}
				panic("boom")
			})
		}()
		if got := notes(t); len(got) != 0 {
			t.Fatalf("rows after panic = %q", got)
		}
	})

	t.Run("outside a transaction", func(t *testing.T) {
		reset(t)
		if _, ok := database.SQLTx(ctx); ok {
			t.Fatal("SQLTx found a transaction in a plain context")
		}
		if err := insertGorm(ctx, "a"); err != nil {
			t.Fatal(err)
		}
		if got := notes(t); len(got) != 1 {
			t.Fatalf("rows = %q", got)
		}
	})

	t.Run("another database's transaction is not joined", func(t *testing.T) {
		reset(t)
		other := &database.DB{Gorm: db.Gorm, SQL: db.SQL, Dialect: db.Dialect}
		err := db.InTx(ctx, func(ctx context.Context) error {
			// Conn of another DB must not hand out this transaction.
			if other.Conn(ctx).Statement.ConnPool == db.Conn(ctx).Statement.ConnPool {
				return errors.New("other DB joined the transaction")
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// AfterCommit hooks run after the outermost commit, when the row is visible
// to other connections, and never after a rollback.
func testAfterCommit(t *testing.T, db *database.DB) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	count := func(v string) int {
		var n int
		if err := db.SQL.QueryRowContext(ctx, "SELECT count(*) FROM notes WHERE v = $1", v).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	var seen []string
	err := db.InTx(ctx, func(ctx context.Context) error {
		if !database.InTransaction(ctx) {
			t.Error("InTransaction = false inside InTx")
		}
		if err := db.Conn(ctx).Exec("INSERT INTO notes (v) VALUES (?)", "hook").Error; err != nil {
			return err
		}
		database.AfterCommit(ctx, func() { seen = append(seen, "outer") })
		err := db.InTx(ctx, func(ctx context.Context) error {
			database.AfterCommit(ctx, func() { seen = append(seen, fmt.Sprint("inner, visible: ", count("hook"))) })
			return nil
		})
		if len(seen) != 0 {
			t.Errorf("hooks ran before the commit: %v", seen)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"outer", "inner, visible: 1"}; !slices.Equal(seen, want) {
		t.Errorf("hooks = %v, want %v", seen, want)
	}

	seen = nil
	boom := errors.New("boom")
	err = db.InTx(ctx, func(ctx context.Context) error {
		database.AfterCommit(ctx, func() { seen = append(seen, "rolled back") })
		return boom
	})
	if !errors.Is(err, boom) || len(seen) != 0 {
		t.Errorf("after a rollback: err %v, hooks %v; want boom and none", err, seen)
	}

	if database.InTransaction(ctx) {
		t.Error("InTransaction = true outside InTx")
	}
	database.AfterCommit(ctx, func() { seen = append(seen, "now") })
	if !slices.Equal(seen, []string{"now"}) {
		t.Errorf("without a transaction the hook must run at once: %v", seen)
	}
}
