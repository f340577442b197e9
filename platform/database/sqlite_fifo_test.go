package database

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"
)

func openFIFO(t *testing.T) (*DB, *fifoPool) {
	t.Helper()
	db, err := Open(context.Background(), Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	p, ok := db.Gorm.ConnPool.(*fifoPool)
	if !ok {
		t.Fatalf("SQLite's ConnPool is %T, want *fifoPool", db.Gorm.ConnPool)
	}
	return db, p
}

// queued waits until n callers are queued for their turn.
func waitQueued(t *testing.T, p *fifoPool, n int32) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for p.waiting.Load() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d callers queued, want %d", p.waiting.Load(), n)
		}
		time.Sleep(time.Millisecond)
	}
	// Counted just before it joins the semaphore's queue: let it get there.
	time.Sleep(5 * time.Millisecond)
}

// waitInside waits until a caller waits for the connection inside
// database/sql (the head of the queue).
func waitInside(t *testing.T, db *DB) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for db.SQL.Stats().WaitCount < 1 {
		if time.Now().After(deadline) {
			t.Fatal("no caller waits for the connection")
		}
		time.Sleep(time.Millisecond)
	}
}

// Callers waiting for SQLite's one connection get it in the order they
// asked: database/sql alone hands it to a random waiter. Each caller
// writes its number, so the table's insertion order is the order in which
// the connection served them.
func TestSQLiteServesWaitersInArrivalOrder(t *testing.T) {
	t.Parallel()
	db, p := openFIFO(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := db.Gorm.WithContext(ctx).Exec("CREATE TABLE arrivals (seq INTEGER PRIMARY KEY, caller INTEGER)").Error; err != nil {
		t.Fatal(err)
	}

	// Hold the connection so that every caller below has to wait.
	held, err := db.SQL.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const callers = 8
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for k := range callers {
		wg.Go(func() {
			errs <- db.Gorm.WithContext(ctx).Exec("INSERT INTO arrivals (caller) VALUES (?)", k).Error
		})
		// Caller 0 takes the turn and waits inside database/sql; the
		// others queue behind it, k before k+1.
		if k == 0 {
			waitInside(t, db)
		} else {
			waitQueued(t, p, int32(k))
		}
	}
	if err := held.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}

	var got []int
	if err := db.Gorm.WithContext(ctx).Raw("SELECT caller FROM arrivals ORDER BY seq").Scan(&got).Error; err != nil {
		t.Fatal(err)
	}
	want := []int{0, 1, 2, 3, 4, 5, 6, 7}
	if !slices.Equal(got, want) {
		t.Errorf("served in order %v, want %v", got, want)
	}
}

// A caller whose context ends while it is queued gets the context's error
// and leaves the queue: the callers behind it are still served.
func TestSQLiteQueuedCallerLeavesOnCancel(t *testing.T) {
	t.Parallel()
	db, p := openFIFO(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	held, err := db.SQL.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}

	first := make(chan error, 1)
	go func() { first <- db.Gorm.WithContext(ctx).Exec("SELECT 1").Error }()
	waitInside(t, db)

	queued, stop := context.WithCancel(ctx)
	second := make(chan error, 1)
	go func() {
		var n int
		second <- db.Gorm.WithContext(queued).Raw("SELECT 1").Row().Scan(&n)
	}()
	waitQueued(t, p, 1)
	stop()
	if err := <-second; !errors.Is(err, context.Canceled) {
		t.Errorf("queued caller after cancel: %v, want context.Canceled", err)
	}
	if n := p.waiting.Load(); n != 0 {
		t.Errorf("%d callers still queued after the cancel", n)
	}

	third := make(chan error, 1)
	go func() {
		third <- db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error { return tx.Exec("SELECT 1").Error })
	}()
	if err := held.Close(); err != nil {
		t.Fatal(err)
	}
	for name, ch := range map[string]chan error{"first": first, "third": third} {
		if err := <-ch; err != nil {
			t.Errorf("%s caller: %v", name, err)
		}
	}
}
