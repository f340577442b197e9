package rest_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/lenticular/lenticular/adapters/memory"
	"github.com/lenticular/lenticular/adapters/rest"
	"github.com/lenticular/lenticular/platform/config"
)

func TestZZScratch(t *testing.T) {
	cfg, err := config.LoadFrom(map[string]string{"APP_ENV": "test", "JWT_SECRET": "0123456789abcdef0123456789abcdef"})
	if err != nil {
		t.Fatal(err)
	}
	e, _ := rest.NewRouter(rest.Deps{Config: cfg, Logger: slog.New(slog.DiscardHandler), Limiter: memory.NewLimiter(),
		Readiness: []rest.ReadinessCheck{{Name: "database", Check: func(context.Context) error { return errors.New("x") }}, {Name: "redis"}}})
	for _, p := range []string{"/openapi.json", "/openapi-3.0.json", "/readyz", "/healthz"} {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest("GET", p, nil))
		os.WriteFile("/tmp/scratch"+p[1:]+".out", append([]byte(rec.Header().Get("Content-Type")+"\n"), rec.Body.Bytes()...), 0o644)
	}
	for _, r := range e.Routes() {
		t.Log(r.Method, r.Path)
	}
	_ = http.MethodGet
}
