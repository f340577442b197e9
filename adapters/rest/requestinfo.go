package rest

import (
	"context"
	"log/slog"
	"net/netip"
)

// RequestInfo is what the middleware chain learns about a request, attached
// once to the request context so handlers, the error writer and the access
// log all read the same values without extra allocations per middleware.
type RequestInfo struct {
	ID       string
	ClientIP netip.Addr
	UserID   string
	Route    string
	// log is the router's logger, so errors written outside the middleware
	// chain (huma's hooks) reach the logger of the router that served them.
	log *slog.Logger
	// metrics lets middleware outside NewRouter's reach (rate limits of
	// other policies) count what they refuse.
	metrics Metrics
}

// Logger returns the logger of the router serving ctx.
func Logger(ctx context.Context) *slog.Logger {
	if l := Info(ctx).log; l != nil {
		return l
	}
	return slog.Default()
}

type requestInfoKey struct{}

// Info returns the request's RequestInfo, or an empty one outside a request.
func Info(ctx context.Context) *RequestInfo {
	if ri, ok := ctx.Value(requestInfoKey{}).(*RequestInfo); ok {
		return ri
	}
	return &RequestInfo{}
}

func withInfo(ctx context.Context, ri *RequestInfo) context.Context {
	return context.WithValue(ctx, requestInfoKey{}, ri)
}

// LogAttrs gives loggers the request's id, client IP and user id, so that a
// module logging with a request's context is traceable to the request.
func LogAttrs(ctx context.Context) []slog.Attr {
	ri, ok := ctx.Value(requestInfoKey{}).(*RequestInfo)
	if !ok {
		return nil
	}
	attrs := []slog.Attr{slog.String("request_id", ri.ID), slog.String("ip", ri.ClientIP.String())}
	if ri.UserID != "" {
		attrs = append(attrs, slog.String("user_id", ri.UserID))
	}
	if ri.Route != "" {
		attrs = append(attrs, slog.String("route", ri.Route))
	}
	return attrs
}
