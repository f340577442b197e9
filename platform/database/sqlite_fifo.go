package database

import (
	"context"
	"database/sql"
	"sync/atomic"

	"golang.org/x/sync/semaphore"
)

// fifoPool is the ConnPool GORM uses on SQLite. The database has one
// connection, and database/sql hands a released connection to a random
// waiter, not the oldest: under load a request could lose that draw many
// times in a row, so the p99 was about five times the median. Callers here
// queue in arrival order (semaphore.Weighted is FIFO) and only the head of
// the queue waits inside database/sql, so the draw is between it and the
// few callers that use the *sql.DB directly (River, migrations).
//
// The turn is held only until database/sql has given the connection out:
// rows and transactions keep the connection after the call returns, and
// the next caller then waits for it inside database/sql as the only one
// of ours. A caller whose context ends while queued leaves the queue.
//
// Statements GORM prepares (PrepareStmt mode) are prepared through the
// queue but run on the *sql.DB, outside it.
type fifoPool struct {
	db      *sql.DB
	turn    *semaphore.Weighted
	waiting atomic.Int32 // callers queued for their turn (read by tests)
}

func newFIFOPool(db *sql.DB) *fifoPool {
	return &fifoPool{db: db, turn: semaphore.NewWeighted(1)}
}

func (p *fifoPool) wait(ctx context.Context) error {
	p.waiting.Add(1)
	defer p.waiting.Add(-1)
	return p.turn.Acquire(ctx, 1)
}

func (p *fifoPool) done() { p.turn.Release(1) }

func (p *fifoPool) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	if err := p.wait(ctx); err != nil {
		return nil, err
	}
	defer p.done()
	return p.db.PrepareContext(ctx, query)
}

func (p *fifoPool) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if err := p.wait(ctx); err != nil {
		return nil, err
	}
	defer p.done()
	return p.db.ExecContext(ctx, query, args...)
}

func (p *fifoPool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if err := p.wait(ctx); err != nil {
		return nil, err
	}
	defer p.done()
	return p.db.QueryContext(ctx, query, args...)
}

// QueryRowContext cannot return the context's error itself: *sql.Row
// carries it instead, as database/sql does for a cancelled context.
func (p *fifoPool) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if err := p.wait(ctx); err != nil {
		return p.db.QueryRowContext(ctx, query, args...)
	}
	defer p.done()
	return p.db.QueryRowContext(ctx, query, args...)
}

func (p *fifoPool) BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error) {
	if err := p.wait(ctx); err != nil {
		return nil, err
	}
	defer p.done()
	return p.db.BeginTx(ctx, opts)
}

// GetDBConn lets gorm.DB.DB() return the *sql.DB behind the queue.
func (p *fifoPool) GetDBConn() (*sql.DB, error) { return p.db, nil }
