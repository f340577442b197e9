package rest

import (
	"context"
	"log/slog"
	"time"

	"github.com/gin-gonic/gin"
)

// accessLog writes one line per request. Query strings are left out: they
// can carry tokens (password reset links) and personal data.
func accessLog(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		ri := Info(c.Request.Context())
		// The route is known once Gin matched the request: logs written with
		// the request's context (slow queries, modules) carry it too.
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		ri.Route = route
		c.Next()
		status := c.Writer.Status()
		level := slog.LevelInfo
		if status >= 500 {
			level = slog.LevelError
		}
		attrs := []slog.Attr{
			slog.String("method", c.Request.Method),
			slog.String("route", route),
			slog.Int("status", status),
			slog.Duration("duration", time.Since(start)),
			slog.Int("bytes", max(c.Writer.Size(), 0)),
			slog.String("ip", ri.ClientIP.String()),
			slog.String("request_id", ri.ID),
		}
		if ri.UserID != "" {
			attrs = append(attrs, slog.String("user_id", ri.UserID))
		}
		log.LogAttrs(context.Background(), level, "request", attrs...)
	}
}
