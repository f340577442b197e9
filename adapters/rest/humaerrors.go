package rest

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"
)

// Huma builds every error it writes through NewErrorWithContext; replacing it
// makes validation, parsing and handler errors all leave in the problem+json
// shape of API.md.
func init() {
	huma.NewErrorWithContext = func(ctx huma.Context, status int, msg string, errs ...error) huma.StatusError {
		rctx := context.Background()
		if ctx != nil {
			rctx = ctx.Context()
		}
		p := problemFromHuma(status, msg, errs)
		p.RequestID = Info(rctx).ID
		if p.Status >= 500 {
			err := errors.Join(errs...)
			Logger(rctx).Error("request failed", "request_id", p.RequestID, "status", p.Status, "error", err)
			if p.Status != http.StatusServiceUnavailable && err != nil {
				reportError(rctx, err)
			}
		}
		return p
	}
	huma.NewError = func(status int, msg string, errs ...error) huma.StatusError {
		return huma.NewErrorWithContext(nil, status, msg, errs...)
	}
}

// typeMismatch lists huma's messages for a JSON value of the wrong type,
// which the contract answers as 400 malformed_request, not 422.
var typeMismatch = map[string]bool{
	"expected boolean": true, "expected number": true, "expected integer": true,
	"expected string": true, "expected array": true, "expected object": true,
}

func problemFromHuma(status int, msg string, errs []error) *Problem {
	// A domain error or a problem raised by a handler passes through as is.
	for _, err := range errs {
		var p *Problem
		if errors.As(err, &p) {
			return p
		}
	}
	switch {
	case status >= 500:
		return NewProblem(status, "", "")
	case status == http.StatusBadRequest:
		return NewProblem(status, "malformed_request", "the request body is not valid JSON")
	case status == http.StatusRequestEntityTooLarge:
		return NewProblem(status, "", "the request body is larger than the limit")
	case status == http.StatusUnsupportedMediaType:
		return NewProblem(status, "", "send application/json")
	case status != http.StatusUnprocessableEntity:
		return NewProblem(status, "", msg)
	}
	fields := make([]FieldError, 0, len(errs))
	for _, err := range errs {
		var d *huma.ErrorDetail
		if !errors.As(err, &d) {
			fields = append(fields, FieldError{Code: "invalid", Message: err.Error()})
			continue
		}
		if typeMismatch[d.Message] {
			return NewProblem(http.StatusBadRequest, "malformed_request", fieldName(d.Location)+": "+d.Message)
		}
		fields = append(fields, fieldError(d))
	}
	p := NewProblem(http.StatusUnprocessableEntity, "validation_failed", "the request has invalid fields")
	p.Errors = fields
	return p
}

func fieldError(d *huma.ErrorDetail) FieldError {
	field := fieldName(d.Location)
	code := "invalid"
	switch {
	case d.Message == "unexpected property":
		code = "unknown_field"
	case strings.HasPrefix(d.Message, "expected required property "):
		name := strings.TrimSuffix(strings.TrimPrefix(d.Message, "expected required property "), " to be present")
		field, code = joinField(field, name), "required"
	case strings.HasPrefix(d.Message, "expected length >="), strings.HasPrefix(d.Message, "expected array length >="):
		code = "too_short"
	case strings.HasPrefix(d.Message, "expected length <="), strings.HasPrefix(d.Message, "expected array length <="):
		code = "too_long"
	case strings.HasPrefix(d.Message, "expected number"):
		code = "out_of_range"
	}
	return FieldError{Field: field, Code: code, Message: d.Message}
}

// fieldName turns huma's location (body.user.email, query.limit) into the
// name a client sent.
func fieldName(loc string) string {
	for _, prefix := range []string{"body.", "query.", "path.", "header.", "cookie."} {
		if strings.HasPrefix(loc, prefix) {
			return loc[len(prefix):]
		}
	}
	if loc == "body" {
		return ""
	}
	return loc
}

func joinField(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}
