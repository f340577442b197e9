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
		if extra := missing(r, h.attrs(ctx)); len(extra) > 0 {
			r = r.Clone()
			r.AddAttrs(extra...)
		}
	}
	return h.Handler.Handle(ctx, r)
}

// missing drops the attributes the record already has, so a record that
// names its user_id explicitly does not get a second user_id key (a JSON
// line with a repeated key is read differently by different parsers).
func missing(r slog.Record, attrs []slog.Attr) []slog.Attr {
	if len(attrs) == 0 || r.NumAttrs() == 0 {
		return attrs
	}
	out := attrs[:0:0]
	for _, a := range attrs {
		dup := false
		r.Attrs(func(b slog.Attr) bool {
			dup = b.Key == a.Key
			return !dup
		})
		if !dup {
			out = append(out, a)
		}
	}
	return out
}

func (h *contextHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &contextHandler{Handler: h.Handler.WithAttrs(as), attrs: h.attrs}
}

func (h *contextHandler) WithGroup(name string) slog.Handler {
	return &contextHandler{Handler: h.Handler.WithGroup(name), attrs: h.attrs}
}
