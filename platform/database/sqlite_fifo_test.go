package database_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"
)

// Callers waiting for SQLite's one connection get it in the order they
// asked: database/sql alone hands it to a random waiter. Each caller
// writes its number, so the table's insertion order is the order in which
// the connection served them.
func TestSQLiteServesWaitersInArrivalOrder(t *testing.T) {
	t.Parallel()
	db := openSQLite(t, t.TempDir(), nil)
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
		// Long enough for caller k to be queued before k+1 asks.
		time.Sleep(40 * time.Millisecond)
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
	db := openSQLite(t, t.TempDir(), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	held, err := db.SQL.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}

	first := make(chan error, 1)
	go func() { first <- db.Gorm.WithContext(ctx).Exec("SELECT 1").Error }()
	time.Sleep(40 * time.Millisecond)

	queued, stop := context.WithCancel(ctx)
	second := make(chan error, 1)
	go func() {
		var n int
		second <- db.Gorm.WithContext(queued).Raw("SELECT 1").Row().Scan(&n)
	}()
	time.Sleep(40 * time.Millisecond)
	stop()
	if err := <-second; !errors.Is(err, context.Canceled) {
		t.Errorf("queued caller after cancel: %v, want context.Canceled", err)
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
