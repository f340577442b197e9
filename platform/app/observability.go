package app

import (
	"context"
	"log/slog"

	"github.com/redis/go-redis/v9"
	"go.uber.org/fx"

	"github.com/lenticular/lenticular/adapters/rest"
	"github.com/lenticular/lenticular/platform/config"
	"github.com/lenticular/lenticular/platform/database"
	"github.com/lenticular/lenticular/platform/httpserver"
	"github.com/lenticular/lenticular/platform/observability"
)

// Observability is what the rest of the graph needs to know about Sentry
// and metrics. Metrics is nil when METRICS_ADDR is empty.
type Observability struct {
	Metrics *observability.Metrics
	Sentry  bool
	Tracing bool // Sentry on with a positive SENTRY_TRACES_SAMPLE_RATE
}

// RESTMetrics is Metrics as the router's port, nil (not a nil pointer in
// an interface) when metrics are off.
func (o Observability) RESTMetrics() rest.Metrics {
	if o.Metrics == nil {
		return nil
	}
	return o.Metrics
}

// MetricsServer is the private METRICS_ADDR listener (/metrics and pprof);
// nil when METRICS_ADDR is empty.
type MetricsServer struct{ *httpserver.Server }

// SentryTransport replaces Sentry's HTTP transport; tests supply one with
// fx.Decorate to see what would be sent.
type SentryTransport struct{ observability.SentryTransport }

var _ = feature(fx.Options(
	fx.Provide(
		fx.Annotate(provideObservability, fx.ParamTags(``, ``, `name:"version"`, `optional:"true"`)),
		provideJobReporter,
		provideMetricsServer,
	),
	fx.Invoke(instrumentDatabase, instrumentRedis, func(*MetricsServer) {}),
))

// provideObservability initialises Sentry when SENTRY_DSN is set (release:
// SENTRY_RELEASE, else the build's version) and flushes it when the app
// stops, and creates the metrics registry when METRICS_ADDR is set.
func provideObservability(lc fx.Lifecycle, cfg *config.Config, version string, tr *SentryTransport) (Observability, error) {
	release := cfg.SentryRelease
	if release == "" {
		release = version
	}
	so := observability.SentryOptions{
		DSN:              cfg.SentryDSN.Reveal(),
		Environment:      cfg.SentryEnvironment,
		Release:          release,
		TracesSampleRate: cfg.SentryTracesSampleRate,
	}
	if tr != nil {
		so.Transport = tr.SentryTransport
	}
	on, err := observability.InitSentry(so)
	if err != nil {
		return Observability{}, err
	}
	o := Observability{Sentry: on, Tracing: on && cfg.SentryTracesSampleRate > 0}
	if on {
		// Registered first, so it runs last: after the servers drained and
		// the jobs stopped, everything they reported is sent.
		lc.Append(fx.StopHook(func(ctx context.Context) { observability.FlushSentry(ctx) }))
	}
	if cfg.MetricsAddr != "" {
		o.Metrics = observability.NewMetrics(version)
	}
	return o, nil
}

// provideJobReporter is for the job worker: install it with
// jobs.Options{Tune: reporter.Configure} so that failures reach Sentry and
// outcomes reach the metrics.
func provideJobReporter(o Observability, log *slog.Logger) *observability.JobReporter {
	return &observability.JobReporter{Metrics: o.Metrics, Log: log}
}

// instrumentDatabase exports the pool statistics and River's queue depth,
// and traces queries when Sentry tracing is on.
func instrumentDatabase(o Observability, db *database.DB) error {
	if o.Metrics != nil {
		o.Metrics.RegisterDB("lenticular", db.SQL)
		o.Metrics.Register(observability.NewQueueDepth(db.SQL))
	}
	if o.Tracing {
		return db.Gorm.Use(observability.GormTracing{})
	}
	return nil
}

func instrumentRedis(o Observability, rdb *redis.Client) {
	if o.Tracing && rdb != nil {
		rdb.AddHook(observability.RedisTracing{})
	}
}

func provideMetricsServer(lc fx.Lifecycle, cfg *config.Config, o Observability, log *slog.Logger) *MetricsServer {
	if o.Metrics == nil {
		return nil
	}
	s := &MetricsServer{httpserver.NewFor("METRICS_ADDR", cfg.MetricsAddr, observability.PrivateHandler(o.Metrics), log)}
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error { return s.Start() },
		OnStop: func(ctx context.Context) error {
			stopCtx, cancel := context.WithTimeout(ctx, cfg.ShutdownTimeout)
			defer cancel()
			return s.Stop(stopCtx)
		},
	})
	return s
}
