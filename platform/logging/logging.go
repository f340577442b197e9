// Package logging builds the process logger: JSON lines where machines read
// the logs (staging, production), readable text where people do.
package logging

import (
	"io"
	"log/slog"
	"strings"
)

// New returns a logger for the environment at the given level
// (debug, info, warn, error; anything else means info).
func New(w io.Writer, json bool, level string) *slog.Logger {
	opts := &slog.HandlerOptions{Level: ParseLevel(level)}
	if json {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// ParseLevel maps a LOG_LEVEL value to a slog level.
func ParseLevel(s string) slog.Level {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}
