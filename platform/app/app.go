// Package app is the composition root: the one place that knows every
// module and adapter and wires them with fx.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/redis/go-redis/v9"
	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"

	"github.com/lenticular/lenticular/adapters/gormdb"
	"github.com/lenticular/lenticular/adapters/jobs"
	"github.com/lenticular/lenticular/adapters/memory"
	"github.com/lenticular/lenticular/adapters/redisstore"
	"github.com/lenticular/lenticular/adapters/rest"
	"github.com/lenticular/lenticular/modules/ratelimit"
	"github.com/lenticular/lenticular/platform/cache"
	"github.com/lenticular/lenticular/platform/config"
	"github.com/lenticular/lenticular/platform/database"
	"github.com/lenticular/lenticular/platform/httpserver"
	"github.com/lenticular/lenticular/platform/logging"
)

// features holds one fx.Option per product module (users, auth, links,
// search, ...), each declared in its own file of this package with
// `var _ = feature(...)`, so adding a module never edits this file.
var features []fx.Option

func feature(o fx.Option) bool {
	features = append(features, o)
	return true
}

// App is a composed service, ready to start.
type App struct {
	fx     *fx.App
	server *httpserver.Server
}

// New composes the whole service. Extra options let tests swap adapters
// with fx.Replace or fx.Decorate.
func New(cfg *config.Config, version string, log *slog.Logger, extra ...fx.Option) *App {
	a := &App{}
	log = slog.New(logging.WithContext(log.Handler(), rest.LogAttrs))
	a.fx = fx.New(
		fx.WithLogger(func() fxevent.Logger {
			l := &fxevent.SlogLogger{Logger: log}
			l.UseLogLevel(slog.LevelDebug)
			return l
		}),
		fx.StartTimeout(cfg.ShutdownTimeout+cfg.DBStatementTimeout),
		fx.StopTimeout(cfg.ShutdownTimeout+5*1e9),
		fx.Supply(cfg, log, fx.Annotate(version, fx.ResultTags(`name:"version"`))),
		fx.Provide(
			openDatabase,
			gormdb.NewMigrator,
			openRedis,
			provideLimiters,
			provideReadiness,
			fx.Annotate(provideRouter, fx.ParamTags(``, ``, `name:"version"`, ``, ``, `group:"routes"`, ``, ``, ``)),
			func() *httpserver.Drain { return &httpserver.Drain{} },
			newServer,
		),
		fx.Invoke(migrateOnStart, func(s *httpserver.Server) { a.server = s }),
		fx.Options(features...),
		fx.Options(extra...),
	)
	return a
}

// Err reports a composition error (a missing or failing constructor).
func (a *App) Err() error { return a.fx.Err() }

// Start runs every OnStart hook: migrate (when enabled), then listen.
func (a *App) Start(ctx context.Context) error { return a.fx.Start(ctx) }

// Stop runs the OnStop hooks in reverse: stop listening and drain, close
// Redis, close the database.
func (a *App) Stop(ctx context.Context) error { return a.fx.Stop(ctx) }

// Done is closed by SIGINT or SIGTERM.
func (a *App) Done() <-chan fx.ShutdownSignal { return a.fx.Wait() }

// Addr is the address the public listener is bound to.
func (a *App) Addr() string {
	if a.server == nil {
		return ""
	}
	return a.server.Addr()
}

func openDatabase(lc fx.Lifecycle, cfg *config.Config, log *slog.Logger, obs Observability) (*database.DB, error) {
	db, err := database.Open(context.Background(), database.Options{
		URL:              cfg.DatabaseURL.Reveal(),
		DataDir:          cfg.DataDir,
		MaxOpenConns:     cfg.DBMaxOpenConns,
		MaxIdleConns:     cfg.DBMaxIdleConns,
		StatementTimeout: cfg.DBStatementTimeout,
		Logger:           log,
		SlowThreshold:    cfg.SlowQueryThreshold,
		OnSlowQuery:      obs.Metrics.SlowQuery,
	})
	if err != nil {
		return nil, err
	}
	lc.Append(fx.StopHook(db.Close))
	return db, nil
}

// openRedis returns nil when REDIS_URL is empty: embedded mode.
func openRedis(lc fx.Lifecycle, cfg *config.Config) (*redis.Client, error) {
	if cfg.RedisURL == "" {
		return nil, nil
	}
	rdb, err := cache.Open(cfg.RedisURL.Reveal())
	if err != nil {
		return nil, err
	}
	lc.Append(fx.StopHook(rdb.Close))
	return rdb, nil
}

// Limiters is the shared limiter and the in-process one that stands in
// while Redis is unreachable.
type Limiters struct {
	Shared   ratelimit.Limiter
	Fallback ratelimit.Limiter
	// General counts the limits every request pays (RATE_LIMIT_USER,
	// RATE_LIMIT_ANON): with Redis it leases small batches from the shared
	// buckets instead of a round trip per request.
	General ratelimit.Limiter
}

func provideLimiters(rdb *redis.Client) Limiters {
	local := memory.NewLimiter()
	if rdb == nil {
		return Limiters{Shared: local, General: local}
	}
	shared := redisstore.NewLimiter(rdb)
	return Limiters{Shared: shared, Fallback: local, General: redisstore.NewLeasingLimiter(shared)}
}

func provideReadiness(db *database.DB, rdb *redis.Client, m *gormdb.Migrator, jm *jobs.Migrator) []rest.ReadinessCheck {
	// Redis is optional for readiness: without it the limits fall back to the
	// in-process limiter and session checks to the database (degraded, 200).
	redisCheck := rest.ReadinessCheck{Name: "redis", Optional: true}
	if rdb != nil {
		redisCheck.Check = func(ctx context.Context) error { return rdb.Ping(ctx).Err() }
	}
	return []rest.ReadinessCheck{
		{Name: "database", Check: db.Ping},
		redisCheck,
		{Name: "migrations", Check: func(ctx context.Context) error {
			n, err := m.Pending(ctx)
			if err != nil {
				return err
			}
			jn, err := jm.Pending(ctx) // River's own tables
			if err == nil && n+jn > 0 {
				err = fmt.Errorf("%d pending migrations", n+jn)
			}
			return err
		}},
	}
}

func provideRouter(cfg *config.Config, log *slog.Logger, version string, l Limiters, checks []rest.ReadinessCheck, routes []rest.Routes, obs Observability, authn rest.Authenticator, drain *httpserver.Drain) http.Handler {
	engine, _ := rest.NewRouter(rest.Deps{
		Config: cfg, Logger: log, Version: version,
		Limiter: l.General, Fallback: l.Fallback,
		Readiness: checks, Routes: routes,
		Authenticator: authn, Identify: rest.IdentifyCaller(authn),
		Metrics: obs.RESTMetrics(), Sentry: obs.Sentry,
		Draining: drain.Draining,
	})
	return engine
}

func newServer(lc fx.Lifecycle, cfg *config.Config, h http.Handler, log *slog.Logger, drain *httpserver.Drain) *httpserver.Server {
	s := httpserver.New(cfg.HTTPAddr, h, log)
	s.DrainFirst(drain, cfg.DrainDelay())
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error { return s.Start() },
		OnStop: func(ctx context.Context) error {
			stopCtx, cancel := context.WithTimeout(ctx, cfg.ShutdownTimeout) // the drain delay is part of it
			defer cancel()
			return s.Stop(stopCtx)
		},
	})
	return s
}

// migrateOnStart applies pending migrations before the listener opens, so
// no request ever meets an old schema: the application's (goose), then
// River's job tables. Registered before the server's hook.
func migrateOnStart(lc fx.Lifecycle, cfg *config.Config, m *gormdb.Migrator, jm *jobs.Migrator, log *slog.Logger) {
	if !cfg.MigrateOnStart() {
		return
	}
	lc.Append(fx.StartHook(func(ctx context.Context) error {
		applied, err := m.Up(ctx)
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		for _, a := range applied {
			log.Info("migration applied", "version", a.Version, "name", a.Name, "duration", a.Duration)
		}
		jobsApplied, err := jm.Up(ctx)
		for _, a := range jobsApplied {
			log.Info("job migration applied", "version", a.Version, "name", a.Name, "duration", a.Duration)
		}
		if err != nil {
			return fmt.Errorf("migrate job tables: %w", err)
		}
		return nil
	}))
}
