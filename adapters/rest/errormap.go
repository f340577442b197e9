package rest

import (
	"context"
	"errors"
	"net/http"

	"github.com/lenticular/lenticular/platform/database"
)

// domainError maps one module error value to its HTTP status and code.
// Together the rows are the only place that knows both sides; each module's
// handler file adds its rows with `var _ = mapErrors(...)`.
type domainError struct {
	err    error
	status int
	code   string
}

var domainErrors []domainError

func mapErrors(rows ...domainError) bool {
	domainErrors = append(domainErrors, rows...)
	return true
}

// problemFor turns whatever a use case returned into the answer a client
// sees. An error nobody mapped is a 500 whose detail stays in the log: it is
// a bug or an outage, never the client's mistake. A database that cannot be
// reached is checked before the domain rows, so an outage can never come
// out as a user error: it is 503 database_unavailable, with Retry-After.
func problemFor(ctx context.Context, err error) *Problem {
	ri := Info(ctx)
	var p *Problem
	if errors.As(err, &p) {
		if p.RequestID == "" {
			p.RequestID = ri.ID
		}
		return p
	}
	if database.Unavailable(ctx, err) {
		Logger(ctx).WarnContext(ctx, "database unavailable", "request_id", ri.ID, "error", err)
		p := NewProblem(http.StatusServiceUnavailable, "database_unavailable", "the database is unavailable; retry later").
			WithHeader("Retry-After", "1")
		p.RequestID = ri.ID
		return p
	}
	for _, d := range domainErrors {
		if errors.Is(err, d.err) {
			p := NewProblem(d.status, d.code, err.Error())
			p.RequestID = ri.ID
			return p
		}
	}
	Logger(ctx).ErrorContext(ctx, "unhandled error", "request_id", ri.ID, "error", err)
	reportError(ctx, err)
	p = NewProblem(http.StatusInternalServerError, "internal_error", "")
	p.RequestID = ri.ID
	return p
}
