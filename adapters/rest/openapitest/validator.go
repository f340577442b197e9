// Package openapitest checks HTTP traffic seen in tests against the OpenAPI
// document the service publishes, so the document cannot drift from what
// the handlers really answer.
//
// Load the document once per test from the handler under test, then send
// every request through Do (or pass every response to Check):
//
//	v := openapitest.Load(t, engine)
//	resp, body := v.Do(t, srv.Client(), req)
//
// A response fails the test when its method and path are not in the
// document, its status is neither documented for the operation nor covered
// by a "default" response, or its Content-Type or body does not match the
// documented media type and schema. Two answers that no operation owns are
// checked against the shared Problem schema instead: 404 for a path the
// document does not know and 405 for a method it does not list. A CORS
// preflight is answered by middleware before routing and is only checked
// for an empty body.
package openapitest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// DocumentPath is the document Load validates against: the OpenAPI 3.1
// document itself, the one clients read and API.md binds.
//
// Huma also serves a 3.0.3 downgrade (/openapi-3.0.json) for tools that do
// not speak 3.1, and kin-openapi's 3.1 support was long partial, which is
// why checking the downgrade used to be the safe choice. kin-openapi v0.153
// loads and validates this 3.1 document (type arrays such as
// ["array","null"], "examples") and, for a 3.1 document, validates bodies
// with its JSON Schema 2020-12 validator (ValidateResponse turns it on from
// the document's version). Checking the 3.1 document directly leaves
// huma's downgrade out of the comparison, so a conversion artefact can
// neither hide nor invent drift. Should a schema ever use a 2020-12 keyword
// kin-openapi cannot handle, switch to LoadPath(t, h, Downgrade30Path).
const DocumentPath = "/openapi.json"

// Downgrade30Path is huma's OpenAPI 3.0.3 rendering of the same document.
const Downgrade30Path = "/openapi-3.0.json"

// ProblemSchema names the component that describes every error answer.
const ProblemSchema = "Problem"

// ProblemMediaType is the media type of every error answer (RFC 9457).
const ProblemMediaType = "application/problem+json"

func init() {
	// kin-openapi v0.153 already decodes application/problem+json (and any
	// other +json type) as JSON; registering it again keeps problem bodies
	// validated should a future version drop that default.
	openapi3filter.RegisterBodyDecoder(ProblemMediaType, openapi3filter.JSONBodyDecoder)
}

// Validator checks requests and responses against one loaded document.
// It is safe for concurrent use by parallel tests.
type Validator struct {
	// Doc is the loaded, validated document.
	Doc *openapi3.T
	// Path is where the document was fetched from.
	Path string

	router  routers.Router
	options *openapi3filter.Options
}

// Load fetches DocumentPath from handler and returns a validator for it.
// See LoadPath.
func Load(t testing.TB, handler http.Handler) *Validator {
	t.Helper()
	return LoadPath(t, handler, DocumentPath)
}

// LoadPath fetches the document at path from handler, loads it with
// kin-openapi, validates the document itself (structure, references,
// defaults and, in a 3.0 document, each schema's "example" against the
// schema: kin-openapi does not check a 3.1 schema's "examples", which is
// why the router's tests also load Downgrade30Path) and builds the router
// that maps a request to its operation. It stops the test when any step
// fails.
func LoadPath(t testing.TB, handler http.Handler, path string) *Validator {
	t.Helper()
	rec := httptest.NewRecorder()
	fetchMu.Lock()
	handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	fetchMu.Unlock()
	if rec.Code != http.StatusOK {
		t.Fatalf("openapitest: GET %s: status %d, want 200; body: %s", path, rec.Code, truncate(rec.Body.Bytes()))
		return nil
	}
	doc, err := openapi3.NewLoader().LoadFromData(rec.Body.Bytes())
	if err != nil {
		t.Fatalf("openapitest: load %s: %v", path, err)
		return nil
	}
	// kin-openapi refuses an empty info.version, which huma emits when the
	// router is built without a version (most tests). The version is build
	// metadata, not part of the API's shape, so it is not what this helper
	// guards.
	if doc.Info != nil && doc.Info.Version == "" {
		doc.Info.Version = "unversioned"
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("openapitest: the document at %s is not valid OpenAPI: %v", path, err)
		return nil
	}
	// Route on paths only: the servers list (if any) names deployed hosts,
	// while tests reach the handler on httptest or 127.0.0.1 addresses.
	routed := *doc
	routed.Servers = nil
	router, err := gorillamux.NewRouter(&routed)
	if err != nil {
		t.Fatalf("openapitest: route the document at %s: %v", path, err)
		return nil
	}
	return &Validator{
		Doc:    doc,
		Path:   path,
		router: router,
		options: &openapi3filter.Options{
			IncludeResponseStatus: true,
			MultiError:            true,
			SkipSettingDefaults:   true,
			// Authentication is tested behaviourally, not by the document.
			AuthenticationFunc:      openapi3filter.NoopAuthenticationFunc,
			SchemaValidationOptions: []openapi3.SchemaValidationOption{openapi3.WithStringFormatValidators(stringFormats)},
		},
	}
}

// fetchMu serialises document fetches: huma (v2.37) renders each document
// on its first request into an unsynchronised cache, so parallel tests
// loading from one handler would race.
var fetchMu sync.Mutex

// stringFormats asserts the formats huma emits that kin-openapi leaves
// unchecked by default (it checks date and date-time itself).
var stringFormats = map[string]openapi3.StringFormatValidator{
	"uuid":  openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForUUIDOfRFC9562),
	"email": openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForEmail),
	"uri": openapi3.NewCallbackValidator(func(s string) error {
		u, err := url.Parse(s)
		if err != nil {
			return err
		}
		if !u.IsAbs() {
			return errors.New("not an absolute URI")
		}
		return nil
	}),
}

// Do sends req with client (http.DefaultClient when nil), reads the whole
// body, checks the response against the document (see Check) and returns
// the response, whose Body can be read again, with the body bytes. The
// request itself is not checked, so tests can send invalid requests on
// purpose; use CheckRequest for that.
func (v *Validator) Do(t testing.TB, client *http.Client, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("openapitest: %s %s: %v", req.Method, req.URL.Path, err)
		return nil, nil
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		t.Fatalf("openapitest: %s %s: read body: %v", req.Method, req.URL.Path, err)
		return nil, nil
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	v.Check(t, req, resp.StatusCode, resp.Header, body)
	return resp, body
}

// Serve runs req through handler in process, checks the answer like Do
// and returns the recorder.
func (v *Validator) Serve(t testing.TB, handler http.Handler, req *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, req)
	v.Check(t, req, rec.Code, rec.Header(), rec.Body.Bytes())
	return rec
}

// Check reports (t.Errorf) a response that does not match the document:
// an undocumented method and path, an undocumented status (with no
// "default" response), a Content-Type that is not documented for that
// status, a body that does not match its schema, or a body where the
// document says there is none.
func (v *Validator) Check(t testing.TB, req *http.Request, status int, header http.Header, body []byte) {
	t.Helper()
	if err := v.ValidateResponse(req, status, header, body); err != nil {
		t.Errorf("openapitest: %s %s -> %d does not match %s:\n%v\nbody: %s",
			req.Method, req.URL.Path, status, v.Path, err, truncate(body))
	}
}

// ValidateResponse is Check returning the mismatch instead of failing a
// test.
func (v *Validator) ValidateResponse(req *http.Request, status int, header http.Header, body []byte) error {
	if header == nil {
		header = http.Header{}
	}
	if isPreflight(req) {
		if len(body) != 0 {
			return fmt.Errorf("a CORS preflight answer has a body of %d bytes", len(body))
		}
		return nil
	}
	route, params, err := v.router.FindRoute(req)
	switch {
	case err == nil:
	case errors.Is(err, routers.ErrPathNotFound) && status == http.StatusNotFound,
		errors.Is(err, routers.ErrMethodNotAllowed) && status == http.StatusMethodNotAllowed:
		// The router's own 404 and 405 belong to no operation; they are
		// still problem answers.
		route, err = v.problemRoute(req, status)
		if err != nil {
			return err
		}
	case errors.Is(err, routers.ErrPathNotFound):
		return fmt.Errorf("the path is not in the document (got status %d)", status)
	case errors.Is(err, routers.ErrMethodNotAllowed):
		return fmt.Errorf("the path is documented but not for method %s (got status %d)", req.Method, status)
	default:
		return fmt.Errorf("find the operation: %w", err)
	}

	documented := documentedResponse(route.Operation, status)
	if documented == nil {
		return fmt.Errorf("%s: status %d is not documented and there is no default response (documented: %s)",
			describe(route), status, strings.Join(slices.Sorted(maps.Keys(route.Operation.Responses.Map())), ", "))
	}
	if ct := header.Get("Content-Type"); documented.Value != nil && len(documented.Value.Content) != 0 &&
		documented.Value.Content.Get(ct) == nil {
		return fmt.Errorf("%s: status %d answered with Content-Type %q, documented: %s",
			describe(route), status, ct, strings.Join(slices.Sorted(maps.Keys(documented.Value.Content)), ", "))
	}

	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: req, PathParams: params, Route: route, Options: v.options,
		},
		Status:  status,
		Header:  header,
		Options: v.options,
	}
	in.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		return fmt.Errorf("%s: %w", describe(route), err)
	}

	// kin-openapi accepts any body when the documented response has no
	// content (204, 202 without a body...). A body the document does not
	// describe is drift too.
	if documented.Value != nil && len(documented.Value.Content) == 0 && len(body) != 0 && req.Method != http.MethodHead {
		return fmt.Errorf("%s: status %d is documented without a body, but the response has %d bytes (Content-Type %q)",
			describe(route), status, len(body), header.Get("Content-Type"))
	}
	return nil
}

// describe names the operation a request matched, for failure messages.
func describe(route *routers.Route) string {
	name := route.Method + " " + route.Path
	if route.Operation != nil && route.Operation.OperationID != "" {
		return "operation " + route.Operation.OperationID + " (" + name + ")"
	}
	return name
}

// CheckRequest reports (t.Errorf) a request that does not match the
// document: unknown operation, path, query, header or cookie parameters
// that break their schema, or a body (given separately, since sending
// consumes req.Body) that does not match the documented request body.
// Security requirements are not checked.
func (v *Validator) CheckRequest(t testing.TB, req *http.Request, body []byte) {
	t.Helper()
	if err := v.ValidateRequest(req, body); err != nil {
		t.Errorf("openapitest: request %s %s does not match %s:\n%v\nbody: %s",
			req.Method, req.URL.Path, v.Path, err, truncate(body))
	}
}

// ValidateRequest is CheckRequest returning the mismatch.
func (v *Validator) ValidateRequest(req *http.Request, body []byte) error {
	route, params, err := v.router.FindRoute(req)
	if err != nil {
		return fmt.Errorf("find the operation: %w", err)
	}
	clone := req.Clone(context.Background())
	clone.Body = io.NopCloser(bytes.NewReader(body))
	clone.ContentLength = int64(len(body))
	return openapi3filter.ValidateRequest(context.Background(), &openapi3filter.RequestValidationInput{
		Request: clone, PathParams: params, Route: route, Options: v.options,
	})
}

// problemRoute is a stand-in operation for answers that no documented
// operation owns: the status answered with the Problem schema.
func (v *Validator) problemRoute(req *http.Request, status int) (*routers.Route, error) {
	if v.Doc.Components == nil || v.Doc.Components.Schemas[ProblemSchema] == nil {
		return nil, fmt.Errorf("the document has no %q schema to check a %d answer against", ProblemSchema, status)
	}
	schema := openapi3.NewSchemaRef("#/components/schemas/"+ProblemSchema, v.Doc.Components.Schemas[ProblemSchema].Value)
	resp := openapi3.NewResponse().
		WithDescription(http.StatusText(status)).
		WithContent(openapi3.NewContentWithSchemaRef(schema, []string{ProblemMediaType}))
	op := openapi3.NewOperation()
	op.Responses = openapi3.NewResponses(openapi3.WithStatus(status, &openapi3.ResponseRef{Value: resp}))
	return &routers.Route{Spec: v.Doc, Path: req.URL.Path, Method: req.Method, Operation: op}, nil
}

// documentedResponse is the response ValidateResponse picked for status.
func documentedResponse(op *openapi3.Operation, status int) *openapi3.ResponseRef {
	if op == nil || op.Responses == nil {
		return nil
	}
	if r := op.Responses.Status(status); r != nil {
		return r
	}
	return op.Responses.Default()
}

func isPreflight(req *http.Request) bool {
	return req.Method == http.MethodOptions && req.Header.Get("Origin") != "" &&
		req.Header.Get("Access-Control-Request-Method") != ""
}

// truncate keeps failure messages readable.
func truncate(body []byte) string {
	const limit = 2048
	if len(body) > limit {
		return string(body[:limit]) + "..."
	}
	if len(body) == 0 {
		return "(empty)"
	}
	if json.Valid(body) {
		return string(body)
	}
	return fmt.Sprintf("%q", body)
}
