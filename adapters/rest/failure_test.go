package rest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"testing"

	"github.com/danielgtaylor/huma/v2"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/lenticular/lenticular/adapters/memory"
)

// TestReadinessOptionalCheck pins the readiness policy: a failing optional
// dependency (Redis) leaves the instance ready but "degraded"; a failing
// required one (the database, migrations) takes it out with 503.
func TestReadinessOptionalCheck(t *testing.T) {
	t.Parallel()
	down := func(context.Context) error { return errors.New("dial tcp: connection refused") }
	up := func(context.Context) error { return nil }
	tests := []struct {
		name       string
		db, redis  func(context.Context) error
		wantStatus int
		want       string // body status (200) or problem code (503)
	}{
		{"all ok", up, up, 200, "ok"},
		{"redis down", up, down, 200, "degraded"},
		{"database down", down, up, 503, "not_ready"},
		{"both down", down, down, 503, "not_ready"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			engine, _ := NewRouter(Deps{
				Config: testConfig(t, nil), Logger: slog.New(slog.DiscardHandler), Limiter: memory.NewLimiter(),
				Readiness: []ReadinessCheck{
					{Name: "database", Check: tt.db},
					{Name: "redis", Check: tt.redis, Optional: true},
				},
			})
			w := serve(engine, request{method: "GET", path: "/readyz"})
			if w.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.wantStatus, w.Body)
			}
			var body struct {
				Status any
				Code   string
				Checks map[string]string
			}
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			got := fmt.Sprint(body.Status)
			if w.Code == 503 {
				got = body.Code
			}
			if got != tt.want {
				t.Errorf("got %q, want %q: %s", got, tt.want, w.Body)
			}
			if tt.redis != nil && body.Checks["redis"] == "" {
				t.Errorf("redis check not reported: %s", w.Body)
			}
		})
	}
}

type failingRoutes struct{ err error }

func (f failingRoutes) Register(api *API) {
	Register(api, huma.Operation{OperationID: "dbfail", Method: http.MethodGet, Path: "/v1/test/dbfail", Summary: "DB failure"},
		func(context.Context, *struct{}) (*echoOutput, error) { return nil, f.err })
}

// TestDatabaseUnavailableProblem: an error that says the database cannot be
// reached is 503 database_unavailable with Retry-After, never a 500 and never
// a domain answer; other errors stay 500.
func TestDatabaseUnavailableProblem(t *testing.T) {
	t.Parallel()
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantCode   string
	}{
		{"refused", fmt.Errorf("load user: %w", refused), 503, "database_unavailable"},
		{"server shutting down", &pgconn.PgError{Code: "57P01", Message: "terminating connection due to administrator command"}, 503, "database_unavailable"},
		{"connect error", &pgconn.ConnectError{}, 503, "database_unavailable"},
		{"other", errors.New("boom"), 500, "internal_error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			engine, _ := NewRouter(Deps{
				Config: testConfig(t, nil), Logger: slog.New(slog.DiscardHandler), Limiter: memory.NewLimiter(),
				Routes: []Routes{failingRoutes{tt.err}},
			})
			w := serve(engine, request{method: "GET", path: "/v1/test/dbfail"})
			if w.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.wantStatus, w.Body)
			}
			p := decodeProblem(t, w)
			if p.Code != tt.wantCode {
				t.Errorf("code %q, want %q", p.Code, tt.wantCode)
			}
			if tt.wantStatus == 503 && w.Header().Get("Retry-After") == "" {
				t.Error("503 without Retry-After")
			}
		})
	}
}
