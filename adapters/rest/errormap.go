package rest

import (
	"context"
	"errors"
	"net/http"
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
// a bug or an outage, never the client's mistake.
func problemFor(ctx context.Context, err error) *Problem {
	ri := Info(ctx)
	var p *Problem
	if errors.As(err, &p) {
		if p.RequestID == "" {
			p.RequestID = ri.ID
		}
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
