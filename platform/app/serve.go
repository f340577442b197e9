package app

import (
	"context"
	"log/slog"

	"github.com/lenticular/lenticular/platform/config"
)

// Serve runs the service until SIGINT or SIGTERM, then drains and stops.
func Serve(cfg *config.Config, version string, log *slog.Logger) error {
	a := New(cfg, version, log)
	if err := a.Err(); err != nil {
		return err
	}
	startCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout+cfg.DBStatementTimeout)
	defer cancel()
	if err := a.Start(startCtx); err != nil {
		return err
	}
	sig := <-a.Done()
	log.Info("shutting down", "signal", sig.Signal.String())
	stopCtx, cancelStop := context.WithTimeout(context.Background(), cfg.ShutdownTimeout+5e9)
	defer cancelStop()
	return a.Stop(stopCtx)
}
