package app

import (
	"context"
	"log/slog"

	"go.uber.org/fx"

	"github.com/lenticular/lenticular/platform/config"
	"github.com/lenticular/lenticular/platform/httpserver"
)

// NewWorker composes `lenticular worker`: the same graph as New, with the
// job workers always on and no public HTTP server (nor router) built. The
// private METRICS_ADDR listener still runs when configured.
func NewWorker(cfg *config.Config, version string, log *slog.Logger, extra ...fx.Option) *App {
	opts := append([]fx.Option{
		fx.Replace(JobsMode{Work: true, Dedicated: true}),
		fx.Replace((*httpserver.Server)(nil)),
	}, extra...)
	return New(cfg, version, log, opts...)
}

// Work runs the job workers until SIGINT or SIGTERM, then lets running jobs
// finish for up to SHUTDOWN_TIMEOUT, cancels the rest (they go back to the
// queue) and stops.
func Work(cfg *config.Config, version string, log *slog.Logger) error {
	a := NewWorker(cfg, version, log)
	if err := a.Err(); err != nil {
		return err
	}
	startCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout+cfg.DBStatementTimeout)
	defer cancel()
	if err := a.Start(startCtx); err != nil {
		return err
	}
	log.Info("worker started")
	sig := <-a.Done()
	log.Info("shutting down", "signal", sig.Signal.String())
	stopCtx, cancelStop := context.WithTimeout(context.Background(), cfg.ShutdownTimeout+5e9)
	defer cancelStop()
	return a.Stop(stopCtx)
}
