package observability

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/getsentry/sentry-go"
)

// SentryOptions configures error and performance reporting.
type SentryOptions struct {
	// DSN is SENTRY_DSN; empty disables Sentry entirely.
	DSN string
	// Environment is SENTRY_ENVIRONMENT (APP_ENV by default).
	Environment string
	// Release is SENTRY_RELEASE, else the build's version.
	Release string
	// ServerName defaults to the host name.
	ServerName string
	// TracesSampleRate is SENTRY_TRACES_SAMPLE_RATE, 0..1; 0 sends errors
	// only.
	TracesSampleRate float64
	// Transport replaces the HTTP transport (tests capture events with it).
	Transport sentry.Transport
}

// InitSentry configures the process-wide Sentry client. It reports whether
// Sentry is on: with an empty DSN nothing is initialised and every capture
// elsewhere is a no-op.
func InitSentry(o SentryOptions) (bool, error) {
	if o.DSN == "" {
		return false, nil
	}
	if o.ServerName == "" {
		o.ServerName, _ = os.Hostname()
	}
	err := sentry.Init(sentry.ClientOptions{
		Dsn:                   o.DSN,
		Environment:           o.Environment,
		Release:               o.Release,
		ServerName:            o.ServerName,
		EnableTracing:         o.TracesSampleRate > 0,
		TracesSampleRate:      o.TracesSampleRate,
		SendDefaultPII:        false,
		AttachStacktrace:      true,
		BeforeSend:            Scrub,
		BeforeSendTransaction: Scrub,
		BeforeBreadcrumb: func(b *sentry.Breadcrumb, _ *sentry.BreadcrumbHint) *sentry.Breadcrumb {
			b.Message = ScrubText(b.Message)
			return b
		},
		Transport: o.Transport,
	})
	if err != nil {
		// The DSN itself is a credential: never echo it.
		return false, fmt.Errorf("SENTRY_DSN: %v", ScrubText(err.Error()))
	}
	return true, nil
}

// FlushSentry sends what is buffered, waiting at most until ctx ends (or
// two seconds without a deadline).
func FlushSentry(ctx context.Context) {
	if _, ok := ctx.Deadline(); !ok {
		sentry.Flush(2 * time.Second)
		return
	}
	sentry.FlushWithContext(ctx)
}

// CaptureError reports err to the hub of ctx (the request's or the job's),
// or to the process hub when ctx has none. A no-op when Sentry is off.
func CaptureError(ctx context.Context, err error, tags map[string]string) {
	if err == nil {
		return
	}
	hub := sentry.GetHubFromContext(ctx)
	if hub == nil {
		hub = sentry.CurrentHub()
	}
	if hub.Client() == nil {
		return
	}
	hub.WithScope(func(s *sentry.Scope) {
		for k, v := range tags {
			s.SetTag(k, v)
		}
		hub.CaptureException(err)
	})
}

// SentryTransport is sentry.Transport, named here so the composition root
// can accept a replacement without importing the SDK.
type SentryTransport = sentry.Transport
