package database_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/lenticular/lenticular/platform/database"
	"github.com/lenticular/lenticular/platform/logging"
)

type routeKey struct{}

// TestSlowQueryLog runs on SQLite with a threshold every query exceeds: the
// record is at Warn, has the duration and the route of the request that
// made the query, and the SQL with placeholders but not the arguments.
func TestSlowQueryLog(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	h := logging.WithContext(slog.NewJSONHandler(&buf, nil), func(ctx context.Context) []slog.Attr {
		if r, ok := ctx.Value(routeKey{}).(string); ok {
			return []slog.Attr{slog.String("route", r), slog.String("request_id", "rid-1")}
		}
		return nil
	})
	var slow int
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	db, err := database.Open(ctx, database.Options{
		DataDir: t.TempDir(), Logger: slog.New(h), SlowThreshold: time.Nanosecond,
		OnSlowQuery: func() { slow++ },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Gorm.WithContext(ctx).Exec("CREATE TABLE people (email TEXT, password TEXT)").Error; err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	slow = 0
	rctx := context.WithValue(ctx, routeKey{}, "/v1/users/:id")
	const email, password = "carol@example.com", "s3cret-pass"
	if err := db.Gorm.WithContext(rctx).Exec("INSERT INTO people (email, password) VALUES (?, ?)", email, password).Error; err != nil {
		t.Fatal(err)
	}
	var n int64
	if err := db.Gorm.WithContext(rctx).Table("people").Where("email = ?", email).Count(&n).Error; err != nil || n != 1 {
		t.Fatalf("count = %d, %v", n, err)
	}
	// Raw(...).Scan renders its statement through gorm's trace recorder,
	// not through this logger's ParamsFilter.
	var found []struct{ Email string }
	if err := db.Gorm.WithContext(rctx).Raw("SELECT email FROM people WHERE password = ?", password).Scan(&found).Error; err != nil || len(found) != 1 {
		t.Fatalf("scan = %v, %v", found, err)
	}
	out := buf.String()
	if strings.Contains(out, email) || strings.Contains(out, password) {
		t.Fatalf("slow-query log leaks an argument:\n%s", out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || slow != 3 {
		t.Fatalf("%d records, %d counted, want 3:\n%s", len(lines), slow, out)
	}
	for i, wantSQL := range []string{"INSERT INTO people (email, password) VALUES (?, ?)", "SELECT count(*) FROM `people` WHERE email = ?", "SELECT email FROM people WHERE password = ?"} {
		var rec map[string]any
		if err := json.Unmarshal([]byte(lines[i]), &rec); err != nil {
			t.Fatal(err)
		}
		if rec["level"] != "WARN" || rec["msg"] != "slow query" || rec["sql"] != wantSQL ||
			rec["route"] != "/v1/users/:id" || rec["request_id"] != "rid-1" || rec["duration"] == nil {
			t.Errorf("record %d = %v, want WARN slow query %q with route, request id and duration", i, rec, wantSQL)
		}
	}
}

func TestSlowQueryLogOffByDefault(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	db := openSQLite(t, t.TempDir(), slog.New(slog.NewJSONHandler(&buf, nil)))
	if err := db.Gorm.Exec("SELECT 1").Error; err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "slow query") {
		t.Errorf("slow-query log without a threshold:\n%s", buf.String())
	}
}
