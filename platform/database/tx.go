package database

import (
	"context"
	"database/sql"

	"gorm.io/gorm"
)

// txKey carries the unit of work of one DB in a context.
type txKey struct{}

type txValue struct {
	db *DB
	tx *gorm.DB
	// afterCommit is shared by the outermost transaction and its nested
	// blocks: hooks run once, when the outermost one commits.
	afterCommit *[]func()
}

// InTx runs fn in a database transaction carried by the context fn receives,
// so every adapter that fn calls (repositories through Conn, the job queue
// through SQLTx) writes in the same transaction without knowing about the
// others. fn's error, or a panic, rolls everything back; nil commits.
//
// A nested InTx (ctx already carries a transaction of d) joins the outer
// transaction inside a savepoint: an error rolls back the inner block only,
// and nothing is committed until the outermost InTx returns.
//
// With SQLite's single connection, code inside fn must reach the database
// through the context (Conn, SQLTx), never through d.Gorm or d.SQL directly:
// the connection is held by the transaction, so that would wait forever.
func (d *DB) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if v, ok := ctx.Value(txKey{}).(txValue); ok && v.db == d {
		return v.tx.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			return fn(context.WithValue(ctx, txKey{}, txValue{db: d, tx: tx, afterCommit: v.afterCommit}))
		})
	}
	hooks := new([]func())
	err := d.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return fn(context.WithValue(ctx, txKey{}, txValue{db: d, tx: tx, afterCommit: hooks}))
	})
	if err == nil {
		for _, h := range *hooks {
			h()
		}
	}
	return err
}

// AfterCommit runs fn once the transaction ctx carries has committed (never
// when it rolls back), or at once when ctx carries none. Caches use it to
// drop an entry only when the new row is visible: dropped earlier, a
// concurrent reader could cache the old row again before the commit.
// Hooks of a nested block run when the outermost transaction commits, even
// if that block was rolled back to its savepoint: callers must register
// only work that is harmless when nothing changed.
func AfterCommit(ctx context.Context, fn func()) {
	if v, ok := ctx.Value(txKey{}).(txValue); ok && v.afterCommit != nil {
		*v.afterCommit = append(*v.afterCommit, fn)
		return
	}
	fn()
}

// InTransaction reports whether ctx carries a transaction (see InTx).
func InTransaction(ctx context.Context) bool {
	_, ok := ctx.Value(txKey{}).(txValue)
	return ok
}

// Conn returns the transaction ctx carries (see InTx), or d's pool when it
// carries none, bound to ctx either way. Repositories use it for every query.
func (d *DB) Conn(ctx context.Context) *gorm.DB {
	if v, ok := ctx.Value(txKey{}).(txValue); ok && v.db == d {
		return v.tx.WithContext(ctx)
	}
	return d.Gorm.WithContext(ctx)
}

// SQLTx returns the *sql.Tx under the transaction ctx carries, for code that
// speaks database/sql (the job queue inserts its jobs with it). ok is false
// outside InTx.
func SQLTx(ctx context.Context) (tx *sql.Tx, ok bool) {
	v, found := ctx.Value(txKey{}).(txValue)
	if !found {
		return nil, false
	}
	return sqlTxOf(v.tx)
}

// sqlTxOf unwraps the connection pool of a GORM transaction. With
// PrepareStmt on, GORM wraps the *sql.Tx in a *gorm.PreparedStmtTX.
func sqlTxOf(g *gorm.DB) (*sql.Tx, bool) {
	switch p := g.Statement.ConnPool.(type) {
	case *sql.Tx:
		return p, true
	case *gorm.PreparedStmtTX:
		tx, ok := p.Tx.(*sql.Tx)
		return tx, ok
	}
	return nil, false
}
