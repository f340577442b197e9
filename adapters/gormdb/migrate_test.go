package gormdb_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/lenticular/lenticular/adapters/gormdb"
	"github.com/lenticular/lenticular/platform/database"
	"github.com/lenticular/lenticular/platform/testenv"
)

// dialects opens a fresh, empty database of each dialect.
var dialects = []struct {
	name string
	open func(t *testing.T) *database.DB
}{
	{"sqlite", func(t *testing.T) *database.DB {
		return open(t, database.Options{DataDir: filepath.Join(t.TempDir(), "data")})
	}},
	{"postgres", func(t *testing.T) *database.DB {
		return open(t, database.Options{URL: testenv.FreshPostgres(t)})
	}},
}

func open(t *testing.T, o database.Options) *database.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	db, err := database.Open(ctx, o)
	if err != nil {
		t.Fatalf("open database: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestMigrations(t *testing.T) {
	t.Parallel()
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			testMigrations(t, d.open(t))
		})
	}
}

func testMigrations(t *testing.T, db *database.DB) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	m, err := gormdb.NewMigrator(db)
	if err != nil {
		t.Fatalf("NewMigrator: %v", err)
	}

	// Fresh database: everything pending.
	before, err := m.Status(ctx)
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	n := len(before)
	if n == 0 {
		t.Fatal("no migrations embedded")
	}
	for i, s := range before {
		if s.Applied || !s.AppliedAt.IsZero() {
			t.Errorf("before Up: %+v is applied", s)
		}
		if i > 0 && s.Version <= before[i-1].Version {
			t.Errorf("Status not in version order: %d after %d", s.Version, before[i-1].Version)
		}
	}
	if before[0].Version != 1 || before[0].Name != "00001_app_meta.sql" {
		t.Errorf("first migration = %d %q, want 1 00001_app_meta.sql", before[0].Version, before[0].Name)
	}
	wantPending(t, m, n)
	wantTable(t, db, "app_meta", false)

	// Up applies all of them, in order.
	up, err := m.Up(ctx)
	if err != nil {
		t.Fatalf("Up: %v", err)
	}
	if len(up) != n {
		t.Fatalf("Up applied %d migrations, want %d", len(up), n)
	}
	for i, a := range up {
		if a.Version != before[i].Version || a.Name != before[i].Name {
			t.Errorf("Up[%d] = %d %q, want %d %q", i, a.Version, a.Name, before[i].Version, before[i].Name)
		}
	}
	wantPending(t, m, 0)
	wantTable(t, db, "app_meta", true)
	after, err := m.Status(ctx)
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	for _, s := range after {
		if !s.Applied || s.AppliedAt.IsZero() {
			t.Errorf("after Up: %+v not applied", s)
		}
		if age := time.Since(s.AppliedAt); age > time.Hour || age < -time.Hour {
			t.Errorf("after Up: %d applied at %v, not about now", s.Version, s.AppliedAt)
		}
	}

	// The table is usable, with its default timestamp.
	if err := db.Gorm.Exec("INSERT INTO app_meta (key, value) VALUES (?, ?)", "schema", "test").Error; err != nil {
		t.Fatalf("insert into app_meta: %v", err)
	}
	var row struct {
		Value     string
		UpdatedAt time.Time
	}
	if err := db.Gorm.Table("app_meta").Where("key = ?", "schema").Take(&row).Error; err != nil {
		t.Fatalf("read app_meta: %v", err)
	}
	if row.Value != "test" || row.UpdatedAt.IsZero() {
		t.Errorf("app_meta row = %+v", row)
	}

	// Up again is a no-op.
	again, err := m.Up(ctx)
	if err != nil || len(again) != 0 {
		t.Fatalf("second Up = %v, %v; want nothing applied", again, err)
	}

	// Down one step at a time, newest first, until nothing is left.
	for i := n - 1; i >= 0; i-- {
		a, err := m.Down(ctx)
		if err != nil {
			t.Fatalf("Down: %v", err)
		}
		if a == nil || a.Version != before[i].Version {
			t.Fatalf("Down rolled back %+v, want version %d", a, before[i].Version)
		}
		wantPending(t, m, n-i)
	}
	if a, err := m.Down(ctx); a != nil || err != nil {
		t.Fatalf("Down with nothing applied = %+v, %v; want nil, nil", a, err)
	}
	wantTable(t, db, "app_meta", false)
	st, err := m.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range st {
		if s.Applied {
			t.Errorf("after Down: %+v still applied", s)
		}
	}

	// And up again from scratch.
	if up, err := m.Up(ctx); err != nil || len(up) != n {
		t.Fatalf("Up after Down = %d applied, %v; want %d", len(up), err, n)
	}
	wantPending(t, m, 0)
	wantTable(t, db, "app_meta", true)
}

// Instances starting together each run Up; every migration runs once.
func TestMigrationsConcurrentUp(t *testing.T) {
	t.Parallel()
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			db := d.open(t)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			const instances = 4
			var (
				wg    sync.WaitGroup
				mu    sync.Mutex
				total int
			)
			for range instances {
				m, err := gormdb.NewMigrator(db)
				if err != nil {
					t.Fatal(err)
				}
				wg.Go(func() {
					applied, err := m.Up(ctx)
					if err != nil {
						t.Errorf("Up: %v", err)
					}
					mu.Lock()
					total += len(applied)
					mu.Unlock()
				})
			}
			wg.Wait()
			m, err := gormdb.NewMigrator(db)
			if err != nil {
				t.Fatal(err)
			}
			st, err := m.Status(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if total != len(st) {
				t.Errorf("%d instances applied %d migrations in total, want %d", instances, total, len(st))
			}
			wantPending(t, m, 0)
		})
	}
}

func wantPending(t *testing.T, m *gormdb.Migrator, want int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got, err := m.Pending(ctx)
	if err != nil {
		t.Fatalf("Pending: %v", err)
	}
	if got != want {
		t.Errorf("Pending = %d, want %d", got, want)
	}
}

func wantTable(t *testing.T, db *database.DB, table string, want bool) {
	t.Helper()
	if got := db.Gorm.Migrator().HasTable(table); got != want {
		t.Errorf("table %s exists = %v, want %v", table, got, want)
	}
}
