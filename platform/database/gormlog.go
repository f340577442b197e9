package database

import (
	"context"
	"errors"
	"log/slog"
	"regexp"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// slogLogger reports failed and slow queries to slog at Warn level. It logs
// the SQL text with its placeholders but never the arguments, which can hold
// passwords, tokens or personal data. Everything else gorm would log is
// dropped. Records are logged with the query's context, so a query made for
// a request carries its request id, client IP, user id and route.
type slogLogger struct {
	log    *slog.Logger
	slow   time.Duration // 0: no slow-query log
	onSlow func()
}

var (
	_ logger.Interface  = (*slogLogger)(nil)
	_ gorm.ParamsFilter = (*slogLogger)(nil)
)

func (l *slogLogger) LogMode(logger.LogLevel) logger.Interface { return l }

func (l *slogLogger) Info(context.Context, string, ...any) {}

func (l *slogLogger) Warn(context.Context, string, ...any) {}

// Error logs gorm's own error messages without their data arguments.
func (l *slogLogger) Error(ctx context.Context, msg string, _ ...any) {
	l.log.WarnContext(ctx, "gorm: "+msg)
}

// ParamsFilter drops the arguments before gorm renders the statement for
// Trace, so they never reach the log.
func (l *slogLogger) ParamsFilter(_ context.Context, sql string, _ ...any) (string, []any) {
	return sql, nil
}

// Raw(...).Scan does not reach ParamsFilter: Scan records the statement
// with gorm's trace recorder, which renders it eagerly with its own filter,
// a no-op by default, and hands that text to Trace, so slow or failed
// queries were logged with their arguments (token hashes, e-mail
// addresses). The recorder's filter is a package variable of gorm; init
// sets it to drop the arguments too.
func init() {
	logger.RecorderParamsFilter = func(_ context.Context, sql string, _ ...any) (string, []any) {
		return sql, nil
	}
}

func (l *slogLogger) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	if err == nil || errors.Is(err, gorm.ErrRecordNotFound) {
		if elapsed := time.Since(begin); l.slow > 0 && elapsed >= l.slow {
			l.slowQuery(ctx, elapsed, fc)
		}
		return
	}
	if errors.Is(err, context.Canceled) {
		return
	}
	sql, rows := statement(fc)
	l.log.WarnContext(ctx, "database query failed",
		slog.String("sql", sql),
		slog.Int64("rows", rows),
		slog.Duration("duration", time.Since(begin)),
		slog.String("error", err.Error()),
	)
}

// numberedMarker is how gorm's PostgreSQL dialect renders a placeholder
// whose argument it was not given ($1 becomes $1$).
var numberedMarker = regexp.MustCompile(`\$(\d+)\$`)

// statement is the SQL text of a traced query with its placeholders as
// they were written: the arguments are dropped (ParamsFilter), and gorm's
// PostgreSQL dialect then marks every $n it has no argument for.
func statement(fc func() (string, int64)) (string, int64) {
	sql, rows := fc()
	return numberedMarker.ReplaceAllString(sql, `$$$1`), rows
}

func (l *slogLogger) slowQuery(ctx context.Context, elapsed time.Duration, fc func() (string, int64)) {
	if l.onSlow != nil {
		l.onSlow()
	}
	sql, rows := statement(fc)
	l.log.WarnContext(ctx, "slow query",
		slog.Duration("duration", elapsed),
		slog.Duration("threshold", l.slow),
		slog.String("sql", sql),
		slog.Int64("rows", rows),
	)
}
