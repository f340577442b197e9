package database

import (
	"context"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
)

func openPostgres(ctx context.Context, o Options) (*DB, error) {
	// pgx reports parse errors with the password already masked.
	cfg, err := pgx.ParseConfig(o.URL)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	// Without a bound, connecting to a host that drops packets waits for the
	// kernel's TCP timeout (minutes). connect_timeout in the URL still wins.
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = DefaultConnectTimeout
	}
	timeout := o.StatementTimeout
	if timeout == 0 {
		timeout = DefaultStatementTimeout
	}
	cfg.RuntimeParams["statement_timeout"] = strconv.FormatInt(timeout.Milliseconds(), 10)

	sqlDB := stdlib.OpenDB(*cfg)
	maxOpen, maxIdle := o.MaxOpenConns, o.MaxIdleConns
	if maxOpen == 0 {
		maxOpen = DefaultMaxOpenConns
	}
	if maxIdle == 0 {
		maxIdle = DefaultMaxIdleConns
	}
	sqlDB.SetMaxOpenConns(maxOpen)
	sqlDB.SetMaxIdleConns(maxIdle)
	sqlDB.SetConnMaxLifetime(o.ConnMaxLifetime)

	target := fmt.Sprintf("PostgreSQL %s:%d/%s", cfg.Host, cfg.Port, cfg.Database)
	if err := sqlDB.PingContext(ctx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("connect to %s (DATABASE_URL): %w", target, err)
	}
	gdb, err := gorm.Open(postgres.New(postgres.Config{Conn: sqlDB}), gormConfig(o))
	if err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("open %s: %w", target, err)
	}
	return &DB{Gorm: gdb, SQL: sqlDB, Dialect: DialectPostgres}, nil
}
