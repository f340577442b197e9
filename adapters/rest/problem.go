package rest

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"
)

// ProblemContentType is the media type of every error answer (RFC 9457).
const ProblemContentType = "application/problem+json"

// FieldError names one invalid field of a 422 answer.
type FieldError struct {
	Field   string `json:"field" example:"email"`
	Code    string `json:"code" example:"invalid"`
	Message string `json:"message" example:"expected string to be RFC 5322 email"`
}

// Problem is the one error model of the API (API.md "Conventions").
type Problem struct {
	Type      string            `json:"type" example:"urn:lenticular:problem:validation_failed"`
	Title     string            `json:"title" example:"Unprocessable Entity"`
	Status    int               `json:"status" example:"422"`
	Detail    string            `json:"detail" example:"validation failed"`
	Code      string            `json:"code" example:"validation_failed" doc:"Stable snake_case error code"`
	RequestID string            `json:"request_id" minLength:"1" example:"01J9Z3K6Q2W8X4Y6Z8A0B2C4D6"`
	Errors    []FieldError      `json:"errors,omitempty" doc:"Invalid fields (422 only)"`
	Checks    map[string]string `json:"checks,omitempty" doc:"Readiness checks (503 from /readyz only)"`

	headers http.Header
}

func (p *Problem) Error() string { return fmt.Sprintf("%d %s: %s", p.Status, p.Code, p.Detail) }

// GetStatus lets huma write the right status line.
func (p *Problem) GetStatus() int { return p.Status }

// ContentType makes huma label the answer application/problem+json.
func (p *Problem) ContentType(ct string) string {
	if ct == "application/json" {
		return ProblemContentType
	}
	return ct
}

// GetHeaders lets a problem carry headers such as Retry-After or
// WWW-Authenticate through huma.
func (p *Problem) GetHeaders() http.Header { return p.headers }

// WithHeader adds a response header to the problem.
func (p *Problem) WithHeader(key, value string) *Problem {
	if p.headers == nil {
		p.headers = http.Header{}
	}
	p.headers.Set(key, value)
	return p
}

// NewProblem builds a problem; an empty code takes the status's default.
func NewProblem(status int, code, detail string) *Problem {
	if code == "" {
		code = defaultCode(status)
	}
	if detail == "" {
		detail = http.StatusText(status)
	}
	return &Problem{
		Type:   "urn:lenticular:problem:" + code,
		Title:  http.StatusText(status),
		Status: status,
		Detail: detail,
		Code:   code,
	}
}

func defaultCode(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "malformed_request"
	case http.StatusUnauthorized:
		return "authentication_required"
	case http.StatusForbidden:
		return "forbidden"
	case http.StatusNotFound:
		return "not_found"
	case http.StatusMethodNotAllowed:
		return "method_not_allowed"
	case http.StatusNotAcceptable:
		return "not_acceptable"
	case http.StatusConflict:
		return "conflict"
	case http.StatusRequestEntityTooLarge:
		return "payload_too_large"
	case http.StatusUnsupportedMediaType:
		return "unsupported_media_type"
	case http.StatusUnprocessableEntity:
		return "validation_failed"
	case http.StatusTooManyRequests:
		return "rate_limited"
	case http.StatusServiceUnavailable:
		return "service_unavailable"
	}
	if status >= 500 {
		return "internal_error"
	}
	return "bad_request"
}

// abortWithProblem answers from a Gin middleware, outside huma.
func abortWithProblem(c *gin.Context, p *Problem) {
	p.RequestID = Info(c.Request.Context()).ID
	for k, vs := range p.headers {
		for _, v := range vs {
			c.Writer.Header().Add(k, v)
		}
	}
	body, err := json.Marshal(p)
	if err != nil {
		body = []byte(`{"status":500,"code":"internal_error"}`)
	}
	c.Abort()
	c.Data(p.Status, ProblemContentType, body)
}
