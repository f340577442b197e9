package database_test

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/lenticular/lenticular/platform/database"
)

func TestUnavailable(t *testing.T) {
	t.Parallel()
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}
	tests := []struct {
		name string
		ctx  context.Context
		err  error
		want bool
	}{
		{"nil", context.Background(), nil, false},
		{"refused dial", context.Background(), fmt.Errorf("load user: %w", refused), true},
		{"bad conn", context.Background(), fmt.Errorf("q: %w", driver.ErrBadConn), true},
		{"unexpected EOF", context.Background(), fmt.Errorf("receive: %w", io.ErrUnexpectedEOF), true},
		{"admin shutdown", context.Background(), &pgconn.PgError{Code: "57P01"}, true},
		{"starting up", context.Background(), &pgconn.PgError{Code: "57P03"}, true},
		{"connection failure", context.Background(), &pgconn.PgError{Code: "08006"}, true},
		{"too many connections", context.Background(), &pgconn.PgError{Code: "53300"}, true},
		{"unique violation", context.Background(), &pgconn.PgError{Code: "23505"}, false},
		{"statement timeout is a query problem", context.Background(), &pgconn.PgError{Code: "57014"}, false},
		{"deadline not the caller's", context.Background(), fmt.Errorf("ping: %w", context.DeadlineExceeded), true},
		{"caller went away", cancelled, fmt.Errorf("q: %w", context.Canceled), false},
		{"plain error", context.Background(), errors.New("boom"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := database.Unavailable(tt.ctx, tt.err); got != tt.want {
				t.Errorf("Unavailable(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}
