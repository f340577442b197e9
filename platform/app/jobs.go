package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"go.uber.org/fx"

	"github.com/lenticular/lenticular/adapters/gormdb"
	"github.com/lenticular/lenticular/adapters/jobs"
	"github.com/lenticular/lenticular/adapters/mail"
	"github.com/lenticular/lenticular/modules/notify"
	"github.com/lenticular/lenticular/platform/config"
	"github.com/lenticular/lenticular/platform/database"
	"github.com/lenticular/lenticular/platform/observability"
)

// The job queue: notify.Queue for the modules, and the River client that
// works the jobs in `serve` (WORKER=embedded) and `lenticular worker`.
var _ = feature(fx.Options(
	fx.Provide(
		provideJobsMode,
		provideJobsMigrator,
		provideDeliverer,
		fx.Annotate(provideJobs, fx.ParamTags(``, ``, ``, ``, ``, ``, `group:"jobs_tuning"`)),
		func(j *jobs.Jobs) notify.Queue { return j },
		// Job failures to Sentry, outcomes and durations to the metrics.
		fx.Annotate(func(r *observability.JobReporter) JobsTuning { return r.Configure },
			fx.ResultTags(`group:"jobs_tuning"`)),
	),
	fx.Invoke(runJobs),
))

// JobsMode says whether this process works jobs or only queues them:
// serve works them unless WORKER=off; `lenticular worker` always does, and
// is Dedicated (no HTTP server shares its shutdown time).
type JobsMode struct{ Work, Dedicated bool }

func provideJobsMode(cfg *config.Config) JobsMode { return JobsMode{Work: cfg.Worker != "off"} }

func provideJobsMigrator(db *database.DB) (*jobs.Migrator, error) {
	return jobs.NewMigrator(db, nil) // runJobs logs what it applies
}

// provideDeliverer renders with the embedded templates and sends with the
// MAILER configured. Tests replace it with fx.Decorate.
func provideDeliverer(cfg *config.Config, log *slog.Logger) (jobs.Deliverer, error) {
	r, err := notify.NewRenderer(cfg.MailFrom, cfg.FrontendURL)
	if err != nil {
		return nil, err
	}
	s, err := mail.New(cfg.Mailer, mail.Settings{
		From: cfg.MailFrom, FileDir: cfg.MailFileDir,
		SMTPURL: cfg.SMTPURL, SendGridAPIKey: cfg.SendGridAPIKey,
		Logger: log,
	})
	if err != nil {
		return nil, err
	}
	return notify.NewDeliverer(r, s), nil
}

// JobsTuning edits River's configuration before the client is built; each
// member of the value group "jobs_tuning" is applied (the observability
// reporter is one).
type JobsTuning func(*river.Config)

func provideJobs(lc fx.Lifecycle, cfg *config.Config, db *database.DB, log *slog.Logger, mode JobsMode, d jobs.Deliverer, tunings []JobsTuning) (*jobs.Jobs, error) {
	o := jobs.Options{
		ListenURL:       cfg.DatabaseURL.Reveal(),
		Logger:          log,
		SoftStopTimeout: jobsSoftStop(cfg, mode),
	}
	if len(tunings) > 0 {
		o.Tune = func(c *river.Config) {
			for _, tune := range tunings {
				tune(c)
			}
		}
	}
	if !mode.Work {
		d = nil // insert-only: a `lenticular worker` process runs the jobs
	}
	j, err := jobs.New(db, d, o)
	if err != nil {
		return nil, err
	}
	lc.Append(fx.StopHook(j.Close)) // appended first, so it runs after Stop
	return j, nil
}

// jobsSoftStop is how long stopping waits for running jobs before
// cancelling them (they go back to the queue). A worker process has all of
// SHUTDOWN_TIMEOUT; serve shares it with draining HTTP requests.
func jobsSoftStop(cfg *config.Config, mode JobsMode) time.Duration {
	if mode.Dedicated {
		return cfg.ShutdownTimeout
	}
	return cfg.ShutdownTimeout / 2
}

// runJobs starts the workers (River's migrations ran before, in
// migrateOnStart, when AUTO_MIGRATE is on), which stop before the database
// closes. When the schema is not migrated yet (AUTO_MIGRATE off,
// `lenticular migrate up` still to run) the process starts anyway, /readyz
// reports the pending migrations, and the workers start as soon as the
// schema is current.
func runJobs(lc fx.Lifecycle, j *jobs.Jobs, m *jobs.Migrator, am *gormdb.Migrator, log *slog.Logger) {
	if !j.Working() {
		return
	}
	current := func(ctx context.Context) (bool, error) {
		n, err := am.Pending(ctx)
		if err != nil || n > 0 {
			return false, err
		}
		n, err = m.Pending(ctx)
		return n == 0, err
	}
	var (
		stop    = make(chan struct{})
		waiting = make(chan struct{})
	)
	lc.Append(fx.Hook{
		OnStart: func(ctx context.Context) error {
			ok, err := current(ctx)
			if err != nil {
				return err
			}
			if ok {
				close(waiting)
				return j.Start(ctx) // River gets a context fx's start deadline cannot cancel
			}
			log.Warn("jobs: the schema is not migrated; workers start after lenticular migrate up")
			go func() {
				defer close(waiting)
				tick := time.NewTicker(jobsSchemaPoll)
				defer tick.Stop()
				for {
					select {
					case <-stop:
						return
					case <-tick.C:
					}
					ctx, cancel := context.WithTimeout(context.Background(), jobsSchemaPoll)
					ok, err := current(ctx)
					if ok {
						err = j.Start(ctx)
					}
					cancel()
					if err != nil {
						log.Error("jobs: cannot start the workers", "error", err.Error())
					}
					if ok {
						log.Info("jobs: schema migrated; workers started")
						return
					}
				}
			}()
			return nil
		},
		OnStop: func(ctx context.Context) error {
			close(stop)
			<-waiting
			return j.Stop(ctx)
		},
	})
}

// jobsSchemaPoll is how often a worker waiting for migrations checks again.
var jobsSchemaPoll = 2 * time.Second
