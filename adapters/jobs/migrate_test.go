package jobs

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/lenticular/lenticular/platform/database"
	"github.com/lenticular/lenticular/platform/testenv"
)

func TestMigrator(t *testing.T) {
	t.Parallel()
	opens := map[string]func(t *testing.T) *database.DB{
		"sqlite": func(t *testing.T) *database.DB { return openDB(t, database.Options{DataDir: t.TempDir()}) },
		"postgres": func(t *testing.T) *database.DB {
			return openDB(t, database.Options{URL: testenv.FreshPostgres(t)})
		},
	}
	for name, open := range opens {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			db := open(t)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			m, err := NewMigrator(db, nil)
			if err != nil {
				t.Fatal(err)
			}
			status, err := m.Status(ctx)
			if err != nil || len(status) == 0 {
				t.Fatalf("Status = %v, %v", status, err)
			}
			all := len(status)
			wantPending := func(want int) {
				t.Helper()
				if n, err := m.Pending(ctx); err != nil || n != want {
					t.Fatalf("Pending = %d, %v; want %d", n, err, want)
				}
			}
			wantPending(all)

			// Several instances migrating at once apply each migration once.
			var (
				wg    sync.WaitGroup
				mu    sync.Mutex
				total int
			)
			for range 3 {
				wg.Go(func() {
					other, err := NewMigrator(db, nil)
					if err != nil {
						t.Error(err)
						return
					}
					up, err := other.Up(ctx)
					if err != nil {
						t.Errorf("Up: %v", err)
					}
					mu.Lock()
					total += len(up)
					mu.Unlock()
				})
			}
			wg.Wait()
			if total != all {
				t.Fatalf("concurrent Up applied %d migrations, want %d", total, all)
			}
			wantPending(0)
			status, err = m.Status(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range status {
				if !s.Applied {
					t.Errorf("migration %d %s not applied", s.Version, s.Name)
				}
			}

			down, err := m.Down(ctx)
			if err != nil || len(down) != all {
				t.Fatalf("Down = %d migrations, %v; want %d", len(down), err, all)
			}
			wantPending(all)
			if down, err := m.Down(ctx); err != nil || len(down) != 0 {
				t.Fatalf("second Down = %v, %v; want nothing", down, err)
			}
			if up, err := m.Up(ctx); err != nil || len(up) != all {
				t.Fatalf("Up after Down = %d, %v", len(up), err)
			}
			wantPending(0)
		})
	}
}
