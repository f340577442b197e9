package rest

import (
	"context"
	"strings"

	"github.com/getsentry/sentry-go"
	sentrygin "github.com/getsentry/sentry-go/gin"
	"github.com/gin-gonic/gin"
)

// sentryHub is the Gin integration of sentry-go: a hub per request and a
// transaction per request when tracing is sampled. It sits inside
// recoverPanics and re-panics, so a panic is reported here and answered
// there.
func sentryHub() gin.HandlerFunc {
	return sentrygin.New(sentrygin.Options{Repanic: true})
}

// sentryScope runs after requestID: it names the transaction by its route
// template ("GET /v1/users/{id}") and tags every event of the request with
// the request id, the route and the user id. The user id is read when the
// event is sent, so one set by authentication later in the chain is there.
// Emails, IPs, cookies and credentials are never put on the scope; the
// scrubber removes what the SDK itself collects.
func sentryScope() gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx := c.Request.Context()
		hub := sentry.GetHubFromContext(ctx)
		if hub == nil {
			c.Next()
			return
		}
		ri := Info(ctx)
		route := routeTemplate(c.FullPath())
		name := c.Request.Method + " " + route
		hub.Scope().AddEventProcessor(func(e *sentry.Event, _ *sentry.EventHint) *sentry.Event {
			if e.Tags == nil {
				e.Tags = map[string]string{}
			}
			e.Tags["request_id"] = ri.ID
			e.Tags["route"] = route
			e.User = sentry.User{ID: ri.UserID}
			e.Transaction = name
			return e
		})
		if tx := sentry.TransactionFromContext(ctx); tx != nil {
			tx.Name = name
		}
		c.Next()
	}
}

// routeTemplate turns Gin's route (/v1/users/:id) into the OpenAPI form
// (/v1/users/{id}); an unmatched request is "unmatched", never its raw path.
func routeTemplate(fullPath string) string {
	if fullPath == "" {
		return "unmatched"
	}
	if !strings.ContainsAny(fullPath, ":*") {
		return fullPath
	}
	parts := strings.Split(fullPath, "/")
	for i, p := range parts {
		if len(p) > 1 && (p[0] == ':' || p[0] == '*') {
			parts[i] = "{" + p[1:] + "}"
		}
	}
	return strings.Join(parts, "/")
}

// reportError sends an unexpected server-side error to the request's
// Sentry hub; without Sentry (no hub on the context) it does nothing.
func reportError(ctx context.Context, err error) {
	if hub := sentry.GetHubFromContext(ctx); hub != nil && err != nil {
		hub.CaptureException(err)
	}
}
