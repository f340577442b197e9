package rest

import (
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"
)

// Error documentation. Every error response of an operation in
// /openapi.json lists the problem codes that status can carry for that
// operation, with a sample body per code. The codes come from two places:
//
//   - the middleware chain, derived from the operation itself (its method,
//     input, Security and RequireRole; see middlewareCodes);
//   - the operation's own logic, declared with Codes in its Metadata:
//
//	Metadata: MergeMetadata(RequireRole("admin"), Codes(http.StatusNotFound, "not_found"),
//		Codes(http.StatusConflict, "last_admin")),
//
// A declared (status, code) pair must be one the service can answer: a row
// of the domain error table (errormap.go) or a code of knownCodes below.
// Register panics otherwise, and when an operation documents a status
// without any code, so the document cannot promise what the service never
// says nor leave a status unexplained.

// codesKey is the operation metadata key Codes sets.
const codesKey = "lenticular:codes"

// Codes returns operation metadata declaring the problem codes an
// operation's handler can answer with status (beyond those of the
// middleware chain, which Register derives). Combine several declarations,
// and RequireRole, with MergeMetadata.
func Codes(status int, codes ...string) map[string]any {
	return map[string]any{codesKey: map[int][]string{status: slices.Clone(codes)}}
}

// MergeMetadata merges operation metadata maps: code declarations made
// with Codes are united, any other key takes the last value given.
func MergeMetadata(parts ...map[string]any) map[string]any {
	out := map[string]any{}
	codes := map[int][]string{}
	for _, m := range parts {
		for k, v := range m {
			if k != codesKey {
				out[k] = v
				continue
			}
			for status, cs := range v.(map[int][]string) {
				for _, c := range cs {
					if !slices.Contains(codes[status], c) {
						codes[status] = append(codes[status], c)
					}
				}
			}
		}
	}
	if len(codes) > 0 {
		out[codesKey] = codes
	}
	return out
}

func declaredCodes(op *huma.Operation) map[int][]string {
	if op.Metadata == nil {
		return nil
	}
	codes, _ := op.Metadata[codesKey].(map[int][]string)
	return codes
}

type statusCode struct {
	status int
	code   string
}

// knownCodes are the problems answered outside the domain error table (by
// middleware, huma or a handler), with the detail they carry.
var knownCodes = map[statusCode]string{
	{http.StatusBadRequest, "malformed_request"}:                "the request body is not valid JSON",
	{http.StatusUnauthorized, "authentication_required"}:        "sign in to use this resource",
	{http.StatusUnauthorized, "invalid_token"}:                  "the access token is not valid",
	{http.StatusUnauthorized, "session_revoked"}:                "this session was signed out",
	{http.StatusUnauthorized, "invalid_refresh_token"}:          "no refresh token",
	{http.StatusForbidden, "csrf_failed"}:                       "send the X-CSRF-Token header equal to the lt_csrf cookie",
	{http.StatusForbidden, "forbidden"}:                         "your role does not allow this",
	{http.StatusForbidden, "https_required"}:                    "use HTTPS; credentials sent over plain HTTP may already be exposed",
	{http.StatusRequestEntityTooLarge, "payload_too_large"}:     "the request body is larger than the limit",
	{http.StatusUnsupportedMediaType, "unsupported_media_type"}: "send application/json",
	{http.StatusUnprocessableEntity, "validation_failed"}:       "the request has invalid fields",
	{http.StatusTooManyRequests, "rate_limited"}:                "too many requests; retry later",
	{http.StatusInternalServerError, "internal_error"}:          http.StatusText(http.StatusInternalServerError),
	{http.StatusServiceUnavailable, "database_unavailable"}:     "the database is unavailable; retry later",
	{http.StatusServiceUnavailable, "not_ready"}:                "a dependency is failing: see checks",
}

// sampleDetail is the detail a sample body of (status, code) shows: the
// domain error's message for a row of the table, else the known one.
func sampleDetail(sc statusCode) (string, bool) {
	for _, d := range domainErrors {
		if d.status == sc.status && d.code == sc.code {
			return d.err.Error(), true
		}
	}
	detail, ok := knownCodes[sc]
	return detail, ok
}

// operationCodes is every problem code, by status, the chain can answer
// for op: those of the middleware and huma, derived from the operation,
// and those its Metadata declares.
func operationCodes(op *huma.Operation, input reflect.Type, deployed bool) map[int][]string {
	codes := map[int][]string{}
	add := func(status int, cs ...string) {
		for _, c := range cs {
			if !slices.Contains(codes[status], c) {
				codes[status] = append(codes[status], c)
			}
		}
	}
	probe := isProbe(op.Path)
	unsafe := unsafeMethod(op.Method)
	_, hasBody := input.FieldByName("Body")

	if hasBody {
		add(http.StatusBadRequest, "malformed_request")
	}
	if needsAuth(op) {
		add(http.StatusUnauthorized, "authentication_required", "invalid_token", "session_revoked")
		if unsafe {
			add(http.StatusForbidden, "csrf_failed")
		}
		if requiredRoles(op) != nil {
			add(http.StatusForbidden, "forbidden")
		}
	}
	if deployed && unsafe && !probe {
		add(http.StatusForbidden, "https_required")
	}
	if hasBody {
		add(http.StatusRequestEntityTooLarge, "payload_too_large")
		add(http.StatusUnsupportedMediaType, "unsupported_media_type")
	}
	if input.NumField() > 0 {
		add(http.StatusUnprocessableEntity, "validation_failed")
	}
	if !probe {
		add(http.StatusTooManyRequests, "rate_limited")
	}
	add(http.StatusInternalServerError, "internal_error")
	if !probe {
		// Every API operation reaches the database (authentication
		// included); the probes never answer database_unavailable.
		add(http.StatusServiceUnavailable, "database_unavailable")
	}

	declared := declaredCodes(op)
	for _, status := range slices.Sorted(maps.Keys(declared)) {
		for _, c := range declared[status] {
			if _, ok := sampleDetail(statusCode{status, c}); !ok {
				panic(fmt.Sprintf("rest.Register %s %s: Codes(%d, %q) is no problem the service answers (see errormap.go and apidocs.go)",
					op.Method, op.Path, status, c))
			}
			add(status, c)
		}
	}
	for _, status := range op.Errors {
		if len(codes[status]) == 0 {
			panic(fmt.Sprintf("rest.Register %s %s: status %d is documented without a problem code; declare it with rest.Codes",
				op.Method, op.Path, status))
		}
	}
	return codes
}

// csrfNote is appended to the description of unsafe authenticated
// operations.
const csrfNote = "With cookie authentication, send `X-CSRF-Token` equal to the `lt_csrf` cookie (else 403 `csrf_failed`)."

// describeSecurity adds the CSRF rule to an unsafe authenticated
// operation's description.
func describeSecurity(op *huma.Operation) {
	if !needsAuth(op) || !unsafeMethod(op.Method) || strings.Contains(op.Description, "X-CSRF-Token") {
		return
	}
	if op.Description == "" {
		op.Description = csrfNote
		return
	}
	op.Description = strings.TrimSpace(op.Description) + " " + csrfNote
}

// documentErrorResponses rewrites the error responses huma generated for
// the registered operation: the description lists the codes, the problem
// media type gets a sample body per code.
func documentErrorResponses(doc *huma.OpenAPI, op *huma.Operation, codes map[int][]string, field string) {
	registered := findOperation(doc, op.Method, op.Path)
	if registered == nil {
		return
	}
	for key, resp := range registered.Responses {
		status, err := strconv.Atoi(key)
		if err != nil || status < 400 {
			continue
		}
		cs := codes[status]
		if len(cs) == 0 {
			panic(fmt.Sprintf("rest.Register %s %s: response %d has no problem code", op.Method, op.Path, status))
		}
		quoted := make([]string, len(cs))
		for i, c := range cs {
			quoted[i] = "`" + c + "`"
		}
		resp.Description = fmt.Sprintf("%s. Problem codes: %s.", http.StatusText(status), strings.Join(quoted, ", "))
		mt := resp.Content[ProblemContentType]
		if mt == nil {
			panic(fmt.Sprintf("rest.Register %s %s: response %d is not %s", op.Method, op.Path, status, ProblemContentType))
		}
		mt.Examples = make(map[string]*huma.Example, len(cs))
		for _, c := range cs {
			mt.Examples[c] = &huma.Example{Summary: c, Value: sampleProblem(status, c, field)}
		}
	}
}

// sampleProblem is an example body of (status, code).
func sampleProblem(status int, code, field string) *Problem {
	detail, _ := sampleDetail(statusCode{status, code})
	p := NewProblem(status, code, detail)
	p.RequestID = "01J9Z3K6Q2W8X4Y6Z8A0B2C4D6"
	switch code {
	case "validation_failed":
		if field == "" {
			field = "field"
		}
		p.Errors = []FieldError{{Field: field, Code: "invalid", Message: "expected a valid value"}}
	case "not_ready":
		p.Checks = map[string]string{"database": "failing", "redis": "ok", "migrations": "ok"}
	}
	return p
}

// exampleField names a field of the input for the sample 422 body: the
// first JSON property of the body, else the first parameter.
func exampleField(input reflect.Type) string {
	if body, ok := input.FieldByName("Body"); ok {
		t := body.Type
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t.Kind() == reflect.Struct {
			for i := range t.NumField() {
				if name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); name != "" && name != "-" {
					return name
				}
			}
		}
	}
	for i := range input.NumField() {
		for _, loc := range []string{"path", "query", "header", "cookie"} {
			if name := input.Field(i).Tag.Get(loc); name != "" {
				return name
			}
		}
	}
	return ""
}

func findOperation(doc *huma.OpenAPI, method, path string) *huma.Operation {
	item := doc.Paths[path]
	if item == nil {
		return nil
	}
	switch method {
	case http.MethodGet:
		return item.Get
	case http.MethodPost:
		return item.Post
	case http.MethodPut:
		return item.Put
	case http.MethodPatch:
		return item.Patch
	case http.MethodDelete:
		return item.Delete
	case http.MethodHead:
		return item.Head
	case http.MethodOptions:
		return item.Options
	}
	return nil
}

// Security scheme descriptions (components.securitySchemes).
const (
	bearerSchemeDoc = "The access token (JWT, `ACCESS_TOKEN_TTL`, 15 minutes by default) returned by register, login and refresh, " +
		"sent as `Authorization: Bearer <jwt>`. No token: 401 `authentication_required`; a token that is expired, badly signed, " +
		"of a disabled user or otherwise not valid: 401 `invalid_token`; one of a signed-out session: 401 `session_revoked`."
	cookieSchemeDoc = "Cookie transport: register, login and refresh called with `X-Token-Transport: cookie` set `lt_access` " +
		"(HttpOnly), `lt_refresh` (HttpOnly, Path=/v1/auth) and `lt_csrf` (readable by scripts) instead of returning tokens. " +
		"CSRF rule: a request authenticated by the `lt_access` cookie with an unsafe method (POST, PUT, PATCH, DELETE), " +
		"refresh and logout included, must send the header `X-CSRF-Token` equal to the `lt_csrf` cookie, else 403 `csrf_failed`. " +
		"A request that sends an `Authorization` header is authenticated by it and the cookie is ignored."
)

// nullExample documents null as the example of prop in the JSON answers
// of an operation, for a property that is always null there (an example
// tag can only give a string).
func nullExample(api *API, method, path, prop string) {
	op := findOperation(api.OpenAPI(), method, path)
	if op == nil {
		return
	}
	for key, resp := range op.Responses {
		if !strings.HasPrefix(key, "2") || resp.Content["application/json"] == nil {
			continue
		}
		s := resp.Content["application/json"].Schema
		if s != nil && s.Ref != "" {
			s = api.OpenAPI().Components.Schemas.SchemaFromRef(s.Ref)
		}
		if s != nil && s.Properties[prop] != nil {
			s.Properties[prop].Examples = []any{nil}
		}
	}
}
