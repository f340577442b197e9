package database

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"gorm.io/driver/postgres"
)

func TestURLScheme(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"", ""},
		{"postgres://u:p@h/db", "postgres"},
		{"PostgreSQL://h/db", "postgresql"},
		{"sqlite://x.db", "sqlite"},
		{"mysql://u:p@h/db", "mysql"},
		{"./data/x.db", ""},
		{"file:x.db", ""},
		{"://nohost", ""},
		{"bad scheme://x", ""},
	}
	for _, tt := range tests {
		if got := urlScheme(tt.in); got != tt.want {
			t.Errorf("urlScheme(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestURLPassword(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"postgres://u:secret@h/db", "secret"},
		{"postgres://u:p%40ss@h/db", "p%40ss"},
		{"postgres://u:we:ird@h/db", "we:ird"},
		{"postgres://u:with@at@h/db", "with@at"},
		{"postgres://u@h/db", ""},
		{"postgres://h/db?x=a@b", ""},
		{"postgres://h/db", ""},
	}
	for _, tt := range tests {
		if got := urlPassword(tt.in); got != tt.want {
			t.Errorf("urlPassword(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	base := fmt.Errorf("connect as u:p@ss word: %w", context.DeadlineExceeded)
	tests := []struct {
		name, secret string
		err          error
		wantSame     bool
	}{
		{"raw secret", "p@ss word", base, false},
		{"escaped secret", "p%40ss%20word", base, false},
		{"absent secret", "other", base, true},
		{"no secret", "", base, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := redact(tt.err, tt.secret)
			if tt.wantSame {
				if got != tt.err {
					t.Fatalf("redact changed an error without the secret: %v", got)
				}
				return
			}
			if strings.Contains(got.Error(), "p@ss word") {
				t.Fatalf("secret still in %q", got)
			}
			if !strings.Contains(got.Error(), "xxxxx") {
				t.Fatalf("no mask in %q", got)
			}
			if !errors.Is(got, context.DeadlineExceeded) {
				t.Fatalf("errors.Is lost through redaction")
			}
			if errors.Unwrap(got) != nil {
				t.Fatalf("redacted error exposes the original through Unwrap")
			}
		})
	}
	if redact(nil, "x") != nil {
		t.Fatal("redact(nil) != nil")
	}
}

// TestStatementPlaceholders: the SQL of a slow or failed query on
// PostgreSQL is logged with its placeholders as written, not as gorm
// renders them without arguments ($1$).
func TestStatementPlaceholders(t *testing.T) {
	for _, q := range []string{
		"SELECT id FROM users WHERE email = $1 AND id <> $2",
		"SELECT $1, $10, $2",
		"SELECT 1",
	} {
		rendered := postgres.Dialector{}.Explain(q)
		got, rows := statement(func() (string, int64) { return rendered, 3 })
		if got != q || rows != 3 {
			t.Errorf("gorm renders %q as %q, logged as %q (%d rows)", q, rendered, got, rows)
		}
	}
}
