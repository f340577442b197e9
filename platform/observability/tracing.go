package observability

import (
	"context"
	"errors"
	"net"
	"net/http"

	"github.com/getsentry/sentry-go"
	"github.com/redis/go-redis/v9"
	"gorm.io/gorm"
)

// childSpan starts a span under the one ctx carries, or returns nil when
// ctx is not part of a sampled transaction: a query made at start-up or by
// a job outside any transaction must not open a transaction of its own.
func childSpan(ctx context.Context, op, description string) *sentry.Span {
	parent := sentry.SpanFromContext(ctx)
	if parent == nil || !parent.Sampled.Bool() {
		return nil
	}
	return parent.StartChild(op, sentry.WithDescription(description))
}

// GormTracing is a GORM plugin that makes a span per query of a traced
// request. The span's description is the SQL with its placeholders; the
// arguments are never recorded.
type GormTracing struct{}

var _ gorm.Plugin = GormTracing{}

// Name implements gorm.Plugin.
func (GormTracing) Name() string { return "lenticular:sentry" }

type gormSpanKey struct{}

// Initialize registers the before and after callbacks of every operation.
func (GormTracing) Initialize(db *gorm.DB) error {
	before := func(tx *gorm.DB) {
		if tx.Statement == nil || tx.Statement.Context == nil {
			return
		}
		span := childSpan(tx.Statement.Context, "db.sql.query", "")
		if span == nil {
			return
		}
		tx.Statement.Context = context.WithValue(span.Context(), gormSpanKey{}, span)
	}
	after := func(tx *gorm.DB) {
		if tx.Statement == nil || tx.Statement.Context == nil {
			return
		}
		span, ok := tx.Statement.Context.Value(gormSpanKey{}).(*sentry.Span)
		if !ok {
			return
		}
		span.Description = tx.Statement.SQL.String()
		span.SetData("db.system", tx.Dialector.Name())
		span.SetData("db.rows_affected", tx.RowsAffected)
		if tx.Error != nil && !errors.Is(tx.Error, gorm.ErrRecordNotFound) {
			span.Status = sentry.SpanStatusInternalError
		} else {
			span.Status = sentry.SpanStatusOK
		}
		span.Finish()
	}
	cb := db.Callback()
	return errors.Join(
		cb.Create().Before("gorm:create").Register("sentry:before_create", before),
		cb.Create().After("gorm:create").Register("sentry:after_create", after),
		cb.Query().Before("gorm:query").Register("sentry:before_query", before),
		cb.Query().After("gorm:query").Register("sentry:after_query", after),
		cb.Update().Before("gorm:update").Register("sentry:before_update", before),
		cb.Update().After("gorm:update").Register("sentry:after_update", after),
		cb.Delete().Before("gorm:delete").Register("sentry:before_delete", before),
		cb.Delete().After("gorm:delete").Register("sentry:after_delete", after),
		cb.Row().Before("gorm:row").Register("sentry:before_row", before),
		cb.Row().After("gorm:row").Register("sentry:after_row", after),
		cb.Raw().Before("gorm:raw").Register("sentry:before_raw", before),
		cb.Raw().After("gorm:raw").Register("sentry:after_raw", after),
	)
}

// RedisTracing is a go-redis hook that makes a span per command (or
// pipeline) of a traced request, named by the command only: keys and
// values can hold user data and never reach the span.
type RedisTracing struct{}

var _ redis.Hook = RedisTracing{}

// DialHook implements redis.Hook.
func (RedisTracing) DialHook(next redis.DialHook) redis.DialHook { return next }

// ProcessHook implements redis.Hook.
func (RedisTracing) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if connectionSetup(cmd) {
			return next(ctx, cmd)
		}
		span := childSpan(ctx, "db.redis", cmd.Name())
		if span == nil {
			return next(ctx, cmd)
		}
		span.SetData("db.system", "redis")
		err := next(span.Context(), cmd)
		finish(span, err, redis.Nil)
		return err
	}
}

// ProcessPipelineHook implements redis.Hook.
func (RedisTracing) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if len(cmds) > 0 && connectionSetup(cmds[0]) {
			return next(ctx, cmds)
		}
		span := childSpan(ctx, "db.redis", "pipeline")
		if span == nil {
			return next(ctx, cmds)
		}
		span.SetData("db.system", "redis")
		span.SetData("db.redis.commands", len(cmds))
		err := next(span.Context(), cmds)
		finish(span, err, redis.Nil)
		return err
	}
}

// connectionSetup reports a command go-redis sends on its own when it opens
// a connection (HELLO, AUTH, SELECT, CLIENT SETINFO): noise in a trace.
func connectionSetup(cmd redis.Cmder) bool {
	switch cmd.Name() {
	case "hello", "auth", "select", "client", "readonly":
		return true
	}
	return false
}

func finish(span *sentry.Span, err, benign error) {
	if err != nil && !errors.Is(err, benign) {
		span.Status = sentry.SpanStatusInternalError
	} else {
		span.Status = sentry.SpanStatusOK
	}
	span.Finish()
}

// Transport wraps base (http.DefaultTransport when nil) so that outbound
// requests made with a traced context get a span named by method, host and
// path. The query string is left out (API keys travel there), and no trace
// header is sent: the far side is a third party.
func Transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &tracingTransport{base: base}
}

type tracingTransport struct{ base http.RoundTripper }

func (t *tracingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	span := childSpan(r.Context(), "http.client", r.Method+" "+r.URL.Scheme+"://"+hostOnly(r.URL.Host)+r.URL.Path)
	if span == nil {
		return t.base.RoundTrip(r)
	}
	span.SetData("http.request.method", r.Method)
	resp, err := t.base.RoundTrip(r)
	if err != nil {
		span.Status = sentry.SpanStatusInternalError
	} else {
		span.SetData("http.response.status_code", resp.StatusCode)
		span.Status = sentry.HTTPtoSpanStatus(resp.StatusCode)
	}
	span.Finish()
	return resp, err
}

// hostOnly drops userinfo a caller may have put in the host.
func hostOnly(h string) string {
	if host, port, err := net.SplitHostPort(h); err == nil {
		return net.JoinHostPort(host, port)
	}
	return h
}
