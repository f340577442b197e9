package app

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"
	_ "github.com/jackc/pgx/v5/stdlib"
	"go.uber.org/fx"

	"github.com/lenticular/lenticular/adapters/rest"
	"github.com/lenticular/lenticular/platform/config"
	"github.com/lenticular/lenticular/platform/testenv"
)

const testSecret = "0123456789abcdef0123456789abcdef"

func testConfig(t *testing.T, vars map[string]string) *config.Config {
	t.Helper()
	all := map[string]string{"APP_ENV": "test", "JWT_SECRET": testSecret, "HTTP_ADDR": "127.0.0.1:0", "DATA_DIR": filepath.Join(t.TempDir(), "data")}
	for k, v := range vars {
		all[k] = v
	}
	cfg, err := config.LoadFrom(all)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// startApp composes and starts the whole service on a free port.
func startApp(t *testing.T, cfg *config.Config, extra ...fx.Option) (*App, string) {
	t.Helper()
	a := New(cfg, "test", slog.New(slog.DiscardHandler), extra...)
	if err := a.Err(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Stop(context.Background()) })
	base := "http://" + a.Addr()
	registerValidator(t, base)
	return a, base
}

func get(t *testing.T, url string) (*http.Response, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, b := doChecked(t, req)
	var body map[string]any
	_ = json.Unmarshal(b, &body)
	return res, body
}

func checkReady(t *testing.T, base string, want map[string]string) {
	t.Helper()
	res, body := get(t, base+"/readyz")
	if res.StatusCode != 200 {
		t.Fatalf("/readyz = %d %v", res.StatusCode, body)
	}
	checks, _ := body["checks"].(map[string]any)
	for k, v := range want {
		if checks[k] != v {
			t.Errorf("check %s = %v, want %s (%v)", k, checks[k], v, checks)
		}
	}
}

func TestEmbeddedDefaultServes(t *testing.T) {
	cfg := testConfig(t, nil)
	_, base := startApp(t, cfg)

	if _, err := os.Stat(cfg.SQLitePath()); err != nil {
		t.Fatalf("embedded database not created in DATA_DIR: %v", err)
	}
	res, body := get(t, base+"/healthz")
	if res.StatusCode != 200 || body["status"] != "ok" {
		t.Fatalf("/healthz = %d %v", res.StatusCode, body)
	}
	checkReady(t, base, map[string]string{"database": "ok", "redis": "disabled", "migrations": "ok"})

	for _, tc := range []struct {
		method, path string
		status       int
		code         string
	}{
		{"GET", "/v1/does-not-exist", 404, "not_found"},
		{"POST", "/readyz", 405, "method_not_allowed"},
	} {
		req, _ := http.NewRequest(tc.method, base+tc.path, nil)
		res, b := doChecked(t, req)
		var p rest.Problem
		_ = json.Unmarshal(b, &p)
		if res.StatusCode != tc.status || p.Code != tc.code || res.Header.Get("Content-Type") != rest.ProblemContentType {
			t.Errorf("%s %s = %d %q %q", tc.method, tc.path, res.StatusCode, p.Code, res.Header.Get("Content-Type"))
		}
		if res.Header.Get("X-Content-Type-Options") != "nosniff" || res.Header.Get("X-Request-ID") == "" {
			t.Errorf("%s %s: missing headers %v", tc.method, tc.path, res.Header)
		}
	}
	if res, _ := get(t, base+"/openapi.json"); res.StatusCode != 200 {
		t.Errorf("/openapi.json = %d", res.StatusCode)
	}
}

func TestPostgresAndRedisServe(t *testing.T) {
	cfg := testConfig(t, map[string]string{
		"DATABASE_URL": testenv.FreshPostgres(t),
		"REDIS_URL":    testenv.RedisURL(t),
	})
	_, base := startApp(t, cfg)
	checkReady(t, base, map[string]string{"database": "ok", "redis": "ok", "migrations": "ok"})
}

func TestReadinessDegradedWhenRedisIsUnreachable(t *testing.T) {
	// Port 1 on loopback refuses connections at once. Redis is optional for
	// readiness: the instance stays in rotation, reported as degraded.
	cfg := testConfig(t, map[string]string{"REDIS_URL": "redis://127.0.0.1:1/0"})
	_, base := startApp(t, cfg)
	res, body := get(t, base+"/readyz")
	checks, _ := body["checks"].(map[string]any)
	if res.StatusCode != 200 || body["status"] != "degraded" || checks["redis"] != "failing" || checks["database"] != "ok" {
		t.Errorf("/readyz = %d %v", res.StatusCode, body)
	}
	// The service still answers while Redis is down: the in-process limiter stands in.
	if res, _ := get(t, base+"/v1/anything"); res.StatusCode != 404 || res.Header.Get("RateLimit-Limit") == "" {
		t.Errorf("request during Redis outage = %d %v", res.StatusCode, res.Header)
	}
}

func TestMigrationsPendingWithoutAutoMigrate(t *testing.T) {
	cfg := testConfig(t, map[string]string{"AUTO_MIGRATE": "false"})
	_, base := startApp(t, cfg)
	res, body := get(t, base+"/readyz")
	checks, _ := body["checks"].(map[string]any)
	if res.StatusCode != 503 || checks["migrations"] != "failing" {
		t.Errorf("/readyz = %d %v", res.StatusCode, body)
	}
	if err := Migrate(context.Background(), cfg, slog.New(slog.DiscardHandler), "up", io.Discard); err != nil {
		t.Fatal(err)
	}
	checkReady(t, base, map[string]string{"migrations": "ok"})
}

type slowRoutes struct{ started chan struct{} }

type slowOutput struct {
	Body struct {
		Done bool `json:"done"`
	}
}

func (s slowRoutes) Register(api *rest.API) {
	rest.Register(api, huma.Operation{OperationID: "slow", Method: "GET", Path: "/v1/test/slow", Summary: "Slow"},
		func(ctx context.Context, _ *struct{}) (*slowOutput, error) {
			s.started <- struct{}{}
			time.Sleep(400 * time.Millisecond)
			out := &slowOutput{}
			out.Body.Done = true
			return out, nil
		})
}

func TestShutdownFinishesInFlightRequests(t *testing.T) {
	const inFlight = 20
	routes := slowRoutes{started: make(chan struct{}, inFlight)}
	cfg := testConfig(t, nil)
	a, base := startApp(t, cfg, fx.Provide(fx.Annotate(func() rest.Routes { return routes }, fx.ResultTags(`group:"routes"`))))

	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	var wg sync.WaitGroup
	results := make(chan string, inFlight)
	for range inFlight {
		wg.Go(func() {
			res, err := client.Get(base + "/v1/test/slow")
			if err != nil {
				results <- err.Error()
				return
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 200 || !strings.Contains(string(b), `"done":true`) {
				results <- res.Status + " " + string(b)
			}
		})
	}
	for range inFlight {
		<-routes.started
	}
	if err := a.Stop(context.Background()); err != nil {
		t.Fatalf("stop: %v", err)
	}
	wg.Wait()
	close(results)
	for r := range results {
		t.Errorf("in-flight request lost: %s", r)
	}
	if _, err := client.Get(base + "/healthz"); err == nil {
		t.Error("the listener must be closed after stop")
	}
}

// With AUTO_MIGRATE the listener opens only once every migration, River's
// job tables included, is applied: the first answer the port gives finds the
// schema complete (before, River's ran after the listener had opened, and a
// request at start could fail on a missing column).
func TestListenerOpensAfterAllMigrations(t *testing.T) {
	url := testenv.FreshPostgres(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	cfg := testConfig(t, map[string]string{"DATABASE_URL": url, "HTTP_ADDR": addr})

	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	first := make(chan int, 1)
	go func() {
		c := &http.Client{Timeout: time.Second}
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
			if res, err := c.Get("http://" + addr + "/healthz"); err == nil {
				res.Body.Close()
				var n int
				_ = db.QueryRow(`SELECT count(*) FROM information_schema.columns WHERE table_name = 'river_job' AND column_name = 'unique_key'`).Scan(&n)
				first <- n
				return
			}
			time.Sleep(time.Millisecond)
		}
		first <- -1
	}()
	startApp(t, cfg)
	if n := <-first; n != 1 {
		t.Fatalf("when the port first answered, river_job.unique_key existed %d times (-1: never answered), want 1", n)
	}
}
