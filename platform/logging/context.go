package logging

import (
	"context"
	"log/slog"
)

// ContextAttrs returns the attributes a context carries for logging (request
// id, client IP, user id), or nil.
type ContextAttrs func(context.Context) []slog.Attr

// WithContext wraps h so that every record logged with a context gets that
// context's attributes. Modules can then log security events with the
// standard library alone (`log.WarnContext(ctx, ...)`) and still carry the
// request id and client IP that only the HTTP adapter knows.
func WithContext(h slog.Handler, attrs ContextAttrs) slog.Handler {
	return &contextHandler{Handler: h, attrs: attrs}
}

type contextHandler struct {
	slog.Handler
	attrs ContextAttrs
}

func (h *contextHandler) Handle(ctx context.Context, r slog.Record) error {
	if ctx != nil {
		if extra := h.attrs(ctx); len(extra) > 0 {
			r = r.Clone()
			r.AddAttrs(extra...)
		}
	}
	return h.Handler.Handle(ctx, r)
}

func (h *contextHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &contextHandler{Handler: h.Handler.WithAttrs(as), attrs: h.attrs}
}

func (h *contextHandler) WithGroup(name string) slog.Handler {
	return &contextHandler{Handler: h.Handler.WithGroup(name), attrs: h.attrs}
}
