// Package database opens the application's relational database: embedded
// SQLite (pure Go, WAL mode) when DATABASE_URL is empty, PostgreSQL when it is
// a postgres:// or postgresql:// URL. It hands out both a *gorm.DB for the
// repositories and the underlying *sql.DB for migrations, the job queue and
// health checks.
package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Dialect names the SQL dialect behind a DB.
type Dialect string

const (
	// DialectPostgres is PostgreSQL through pgx.
	DialectPostgres Dialect = "postgres"
	// DialectSQLite is embedded SQLite (pure Go, modernc).
	DialectSQLite Dialect = "sqlite"
)

// SQLiteFileName is the name of the embedded database file inside DataDir.
const SQLiteFileName = "lenticular.db"

// Defaults applied to zero-valued PostgreSQL Options.
const (
	DefaultMaxOpenConns     = 20
	DefaultMaxIdleConns     = 20
	DefaultStatementTimeout = 30 * time.Second
	// DefaultConnectTimeout bounds establishing one PostgreSQL connection when
	// the URL has no connect_timeout parameter.
	DefaultConnectTimeout = 5 * time.Second
)

// Options selects and tunes the database.
type Options struct {
	// URL is DATABASE_URL: "" for embedded SQLite at DataDir/lenticular.db,
	// postgres://... or postgresql://... for PostgreSQL.
	URL string
	// DataDir is DATA_DIR, where the SQLite file lives; created (0o750) if
	// missing. Unused for PostgreSQL.
	DataDir string
	// PostgreSQL pool; defaults 20 / 20 when zero. Zero ConnMaxLifetime keeps
	// connections open indefinitely. SQLite always uses exactly one connection.
	MaxOpenConns, MaxIdleConns int
	ConnMaxLifetime            time.Duration
	// StatementTimeout is PostgreSQL's statement_timeout, sent as a runtime
	// parameter on every connection (default 30s when zero).
	StatementTimeout time.Duration
	// Logger receives failed queries at Warn level (SQL text only, never the
	// arguments). Nil discards them.
	Logger *slog.Logger
	// SlowThreshold is SLOW_QUERY_THRESHOLD: a successful query that took at
	// least this long is logged at Warn with its duration and its SQL with
	// placeholders only. Zero disables the slow-query log.
	SlowThreshold time.Duration
	// OnSlowQuery, when set, is called for each slow query (a metric).
	OnSlowQuery func()
}

// DB is an open database.
type DB struct {
	Gorm    *gorm.DB
	SQL     *sql.DB
	Dialect Dialect
}

// Open connects to the database selected by o.URL and checks that it answers
// before returning. Errors name DATABASE_URL or DATA_DIR and never contain
// the URL's password.
func Open(ctx context.Context, o Options) (*DB, error) {
	switch scheme := urlScheme(o.URL); scheme {
	case "":
		if o.URL != "" {
			return nil, fmt.Errorf("DATABASE_URL: not a URL; %s", acceptedForms)
		}
		return openSQLite(ctx, o)
	case "postgres", "postgresql":
		db, err := openPostgres(ctx, o)
		if err != nil {
			return nil, redact(err, urlPassword(o.URL))
		}
		return db, nil
	default:
		return nil, fmt.Errorf("DATABASE_URL: unsupported scheme %q; %s", scheme, acceptedForms)
	}
}

const acceptedForms = "use an empty value for embedded SQLite in DATA_DIR, or postgres://user:password@host:5432/dbname (postgresql:// also accepted) for PostgreSQL"

// Ping checks that the database answers, within ctx's deadline.
func (d *DB) Ping(ctx context.Context) error {
	if err := d.SQL.PingContext(ctx); err != nil {
		return fmt.Errorf("ping %s: %w", d.Dialect, err)
	}
	return nil
}

// Close closes every connection.
func (d *DB) Close() error {
	return d.SQL.Close()
}

// gormConfig is shared by both dialects: failed and slow queries go to the
// logger without their arguments, driver errors are translated to gorm's portable
// ones (gorm.ErrDuplicatedKey, gorm.ErrForeignKeyViolated), timestamps gorm
// fills in are UTC, and gorm does not ping on its own (Open pings with ctx).
func gormConfig(o Options) *gorm.Config {
	var gl logger.Interface = logger.Discard
	if o.Logger != nil {
		gl = &slogLogger{log: o.Logger, slow: o.SlowThreshold, onSlow: o.OnSlowQuery}
	}
	return &gorm.Config{
		Logger:               gl,
		TranslateError:       true,
		DisableAutomaticPing: true,
		NowFunc:              func() time.Time { return time.Now().UTC() },
	}
}

// urlScheme returns the lower-cased scheme of s ("" if s has none) without
// parsing the rest, so nothing else of the URL can leak into an error.
func urlScheme(s string) string {
	i := strings.Index(s, "://")
	if i <= 0 {
		return ""
	}
	scheme := s[:i]
	for j, r := range scheme {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' ||
			j > 0 && (r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.')
		if !ok {
			return ""
		}
	}
	return strings.ToLower(scheme)
}

// urlPassword extracts the password of a URL, tolerating URLs that net/url
// rejects (the password may contain characters it does not accept).
func urlPassword(s string) string {
	rest := s[strings.Index(s, "://")+3:]
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return ""
	}
	userinfo := rest[:at]
	if slash := strings.IndexAny(userinfo, "/?#"); slash >= 0 {
		return "" // the '@' belongs to the path or query, not to userinfo
	}
	colon := strings.Index(userinfo, ":")
	if colon < 0 {
		return ""
	}
	return userinfo[colon+1:]
}

// redact returns err with every occurrence of secret (raw or URL-decoded)
// replaced. The result keeps errors.Is for the original chain but does not
// expose it through Unwrap, so error reporters that walk the chain cannot
// print the secret either.
func redact(err error, secret string) error {
	if err == nil || secret == "" {
		return err
	}
	msg := err.Error()
	variants := []string{secret}
	if dec, derr := url.PathUnescape(secret); derr == nil && dec != secret {
		variants = append(variants, dec)
	}
	changed := false
	for _, v := range variants {
		if strings.Contains(msg, v) {
			msg = strings.ReplaceAll(msg, v, "xxxxx")
			changed = true
		}
	}
	if !changed {
		return err
	}
	return &redactedError{msg: msg, err: err}
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string        { return e.msg }
func (e *redactedError) Is(target error) bool { return errors.Is(e.err, target) }
