// Package testenv gives integration tests the real PostgreSQL and Redis they
// need. Without TEST_DATABASE_URL / TEST_REDIS_URL a test skips with a loud
// message; with CI=true a missing service fails the test instead, so CI can
// never go green by silently skipping what it was meant to prove.
package testenv

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
)

// InCI reports whether the tests run under CI, where skipping an integration
// test is a failure.
func InCI() bool {
	v := strings.ToLower(os.Getenv("CI"))
	return v == "true" || v == "1"
}

func require(t testing.TB, name, what string) string {
	t.Helper()
	v := os.Getenv(name)
	if v != "" {
		return v
	}
	msg := fmt.Sprintf("\n!!! INTEGRATION TEST NOT RUN: %s is not set (needs a real %s).\n!!! Set it, e.g. %s, to run %s.", name, what, example(name), t.Name())
	if InCI() {
		t.Fatal(msg + "\n!!! CI=true: a skipped integration test is a failure.")
	}
	t.Skip(msg)
	return ""
}

func example(name string) string {
	if name == "TEST_REDIS_URL" {
		return "TEST_REDIS_URL=redis://127.0.0.1:6379/15"
	}
	return "TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// RedisURL returns TEST_REDIS_URL or skips (fails in CI).
func RedisURL(t testing.TB) string {
	t.Helper()
	return require(t, "TEST_REDIS_URL", "Redis server")
}

// DatabaseURL returns TEST_DATABASE_URL or skips (fails in CI). Tests that
// write should use FreshPostgres instead.
func DatabaseURL(t testing.TB) string {
	t.Helper()
	return require(t, "TEST_DATABASE_URL", "PostgreSQL server")
}

// FreshPostgres creates a throwaway database on the TEST_DATABASE_URL server
// and returns its URL; the database is dropped when the test ends. Each test
// gets its own so tests can run in parallel without seeing each other's rows.
func FreshPostgres(t testing.TB) string {
	t.Helper()
	base := DatabaseURL(t)
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("TEST_DATABASE_URL: %v", err)
	}
	name := "lt_test_" + strings.ReplaceAll(uuid.NewString(), "-", "")[:20]
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("open TEST_DATABASE_URL: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("drop test database %s: %v", name, err)
		}
		admin.Close()
	})
	u.Path = "/" + name
	return u.String()
}
