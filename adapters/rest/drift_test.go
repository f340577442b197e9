package rest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/lenticular/lenticular/adapters/memory"
	"github.com/lenticular/lenticular/adapters/rest"
	"github.com/lenticular/lenticular/adapters/rest/openapitest"
	"github.com/lenticular/lenticular/platform/config"
)

// driftRouter builds the router as the service does, with the given
// readiness checks.
//
// NewRouter sets package-level state (huma's error logger, gin's mode), so
// the tests that call it do not run in parallel with each other; their
// sub-tests share routers built beforehand and do.
func driftRouter(t *testing.T, checks ...rest.ReadinessCheck) *gin.Engine {
	t.Helper()
	cfg, err := config.LoadFrom(map[string]string{"APP_ENV": "test", "JWT_SECRET": "0123456789abcdef0123456789abcdef"})
	if err != nil {
		t.Fatal(err)
	}
	engine, _ := rest.NewRouter(rest.Deps{
		Config:    cfg,
		Logger:    slog.New(slog.DiscardHandler),
		Version:   "test",
		Limiter:   memory.NewLimiter(),
		Readiness: checks,
	})
	return engine
}

// driftDoc is the part of the published document the drift tests read.
type driftDoc struct {
	OpenAPI    string                                `json:"openapi"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Schemas map[string]struct {
			Properties map[string]json.RawMessage `json:"properties"`
			Required   []string                   `json:"required"`
		} `json:"schemas"`
	} `json:"components"`
}

type driftOperation struct {
	OperationID string `json:"operationId"`
	Summary     string `json:"summary"`
}

// fetchDriftDoc reads GET /openapi.json, the document clients see.
func fetchDriftDoc(t *testing.T, engine http.Handler) driftDoc {
	t.Helper()
	rec := httptest.NewRecorder()
	engine.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/openapi.json", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /openapi.json: status %d, want 200", rec.Code)
	}
	ct := rec.Header().Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		t.Fatalf("GET /openapi.json: Content-Type %q, want JSON", ct)
	}
	var doc driftDoc
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatalf("GET /openapi.json: not JSON: %v", err)
	}
	return doc
}

// httpMethods are the path item keys that are operations.
var httpMethods = map[string]bool{
	"get": true, "put": true, "post": true, "delete": true, "options": true,
	"head": true, "patch": true, "trace": true, "query": true,
}

// exemptFromDocument tells whether a route serves the document itself or
// its HTML rendering rather than the API.
func exemptFromDocument(path string) bool {
	if path == "/docs" {
		return true
	}
	// /openapi.json, /openapi.yaml, /openapi-3.0.json, /openapi-3.0.yaml
	return strings.HasPrefix(path, "/openapi") && (strings.HasSuffix(path, ".json") || strings.HasSuffix(path, ".yaml"))
}

var ginParam = regexp.MustCompile(`[:*]([^/]+)`)

// openAPIPath turns a Gin path into an OpenAPI path template:
// /v1/users/:id -> /v1/users/{id}, /files/*rest -> /files/{rest}.
func openAPIPath(ginPath string) string {
	return ginParam.ReplaceAllString(ginPath, "{$1}")
}

var templateParam = regexp.MustCompile(`\{[^/}]+\}`)

// pathShape forgets parameter names: /v1/users/{id} and /v1/users/{userID}
// match the same requests.
func pathShape(template string) string {
	return templateParam.ReplaceAllString(template, "{}")
}

// routeDrift compares the engine's routes with the document's operations.
// undocumented lists "METHOD /path" routes the engine serves but the
// document does not describe; unrouted lists documented operations the
// engine does not serve.
func routeDrift(routes gin.RoutesInfo, paths map[string]map[string]json.RawMessage) (undocumented, unrouted []string) {
	documented := map[string]string{} // "METHOD shape" -> "METHOD template"
	for template, item := range paths {
		for method := range item {
			if httpMethods[method] {
				m := strings.ToUpper(method)
				documented[m+" "+pathShape(template)] = m + " " + template
			}
		}
	}
	served := map[string]bool{}
	for _, r := range routes {
		if exemptFromDocument(r.Path) {
			continue
		}
		template := openAPIPath(r.Path)
		key := r.Method + " " + pathShape(template)
		served[key] = true
		if _, ok := documented[key]; !ok {
			undocumented = append(undocumented, r.Method+" "+template)
		}
	}
	for key, op := range documented {
		if !served[key] {
			unrouted = append(unrouted, op)
		}
	}
	slices.Sort(undocumented)
	slices.Sort(unrouted)
	return undocumented, unrouted
}

func TestEveryRouteIsDocumented(t *testing.T) {
	engine := driftRouter(t)
	undocumented, unrouted := routeDrift(engine.Routes(), fetchDriftDoc(t, engine).Paths)
	for _, r := range undocumented {
		t.Errorf("%s is served but missing from /openapi.json: register it with rest.Register", r)
	}
	for _, op := range unrouted {
		t.Errorf("%s is in /openapi.json but no route serves it", op)
	}

	t.Run("reports an undocumented route", func(t *testing.T) {
		engine := driftRouter(t)
		ok := func(c *gin.Context) { c.Status(http.StatusNoContent) }
		engine.GET("/v1/undocumented", ok)
		engine.DELETE("/v1/files/:id/*rest", ok)
		engine.POST("/healthz", ok) // documented path, undocumented method
		undocumented, unrouted := routeDrift(engine.Routes(), fetchDriftDoc(t, engine).Paths)
		want := []string{"DELETE /v1/files/{id}/{rest}", "GET /v1/undocumented", "POST /healthz"}
		if !slices.Equal(undocumented, want) {
			t.Errorf("undocumented = %q, want %q", undocumented, want)
		}
		if len(unrouted) != 0 {
			t.Errorf("unrouted = %q, want none", unrouted)
		}
	})

	t.Run("reports an unrouted operation", func(t *testing.T) {
		t.Parallel()
		paths := map[string]map[string]json.RawMessage{
			"/healthz":        {"get": nil, "parameters": nil},
			"/v1/users/{uid}": {"get": nil},
		}
		routes := gin.RoutesInfo{{Method: http.MethodGet, Path: "/healthz"}, {Method: http.MethodGet, Path: "/openapi.json"}, {Method: http.MethodGet, Path: "/docs"}}
		undocumented, unrouted := routeDrift(routes, paths)
		if len(undocumented) != 0 || !slices.Equal(unrouted, []string{"GET /v1/users/{uid}"}) {
			t.Errorf("routeDrift = %q, %q; want none, [GET /v1/users/{uid}]", undocumented, unrouted)
		}
		routes = append(routes, gin.RouteInfo{Method: http.MethodGet, Path: "/v1/users/:id"})
		if undocumented, unrouted = routeDrift(routes, paths); len(undocumented)+len(unrouted) != 0 {
			t.Errorf("a parameter named differently is the same route; got %q, %q", undocumented, unrouted)
		}
	})
}

func TestOpenAPIPath(t *testing.T) {
	t.Parallel()
	for ginPath, want := range map[string]string{
		"/healthz":                    "/healthz",
		"/v1/users/:id":               "/v1/users/{id}",
		"/v1/users/:id/links":         "/v1/users/{id}/links",
		"/v1/links/:id/save":          "/v1/links/{id}/save",
		"/static/*rest":               "/static/{rest}",
		"/v1/a/:first/b/:second/*all": "/v1/a/{first}/b/{second}/{all}",
	} {
		if got := openAPIPath(ginPath); got != want {
			t.Errorf("openAPIPath(%q) = %q, want %q", ginPath, got, want)
		}
	}
}

func TestOpenAPIDocument(t *testing.T) {
	engine := driftRouter(t)
	doc := fetchDriftDoc(t, engine)
	if doc.OpenAPI != "3.1.0" {
		t.Errorf(`"openapi" = %q, want "3.1.0"`, doc.OpenAPI)
	}
	if len(doc.Paths) == 0 {
		t.Fatal("the document has no paths")
	}

	ids := map[string]string{}
	for path, item := range doc.Paths {
		for method, raw := range item {
			if !httpMethods[method] {
				continue
			}
			where := strings.ToUpper(method) + " " + path
			var op driftOperation
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Errorf("%s: %v", where, err)
				continue
			}
			if op.Summary == "" {
				t.Errorf("%s has no summary", where)
			}
			if op.OperationID == "" {
				t.Errorf("%s has no operationId", where)
				continue
			}
			if other, dup := ids[op.OperationID]; dup {
				t.Errorf("operationId %q is used by %s and %s", op.OperationID, other, where)
			}
			ids[op.OperationID] = where
		}
	}

	problem, ok := doc.Components.Schemas["Problem"]
	if !ok {
		t.Fatal("components.schemas has no Problem schema")
	}
	for _, field := range []string{"type", "title", "status", "detail", "code", "request_id", "errors"} {
		if _, ok := problem.Properties[field]; !ok {
			t.Errorf("the Problem schema has no %q property", field)
		}
	}
	for _, field := range []string{"code", "request_id"} {
		if !slices.Contains(problem.Required, field) {
			t.Errorf("the Problem schema does not require %q", field)
		}
	}

	// Both renderings load and pass kin-openapi's document validation
	// (LoadPath stops the test otherwise); only the 3.0 one has its schema
	// examples checked, kin-openapi skips a 3.1 schema's "examples".
	if v := openapitest.Load(t, engine); !v.Doc.IsOpenAPI31OrLater() {
		t.Errorf("openapitest.Load read OpenAPI %s, want 3.1", v.Doc.OpenAPI)
	}
	if v := openapitest.LoadPath(t, engine, openapitest.Downgrade30Path); !v.Doc.IsOpenAPI30() {
		t.Errorf("%s is OpenAPI %s, want 3.0", openapitest.Downgrade30Path, v.Doc.OpenAPI)
	}
}

func TestResponsesMatchDocument(t *testing.T) {
	passing := []rest.ReadinessCheck{
		{Name: "database", Check: func(context.Context) error { return nil }},
		{Name: "redis"}, // disabled
		{Name: "migrations", Check: func(context.Context) error { return nil }},
	}
	failing := []rest.ReadinessCheck{
		{Name: "database", Check: func(context.Context) error { return errors.New("connection refused") }},
		{Name: "redis"},
		{Name: "migrations", Check: func(context.Context) error { return nil }},
	}
	healthy, broken := driftRouter(t, passing...), driftRouter(t, failing...)

	cases := []struct {
		name    string
		engine  http.Handler
		method  string
		path    string
		status  int
		ctypeIs string
	}{
		{"liveness", healthy, http.MethodGet, "/healthz", http.StatusOK, "application/json"},
		{"ready", healthy, http.MethodGet, "/readyz", http.StatusOK, "application/json"},
		{"not ready", broken, http.MethodGet, "/readyz", http.StatusServiceUnavailable, rest.ProblemContentType},
		{"unknown path", healthy, http.MethodGet, "/v1/no-such-thing", http.StatusNotFound, rest.ProblemContentType},
		{"wrong method", healthy, http.MethodDelete, "/healthz", http.StatusMethodNotAllowed, rest.ProblemContentType},
	}
	// Loaded before the parallel sub-tests: huma renders a document on its
	// first request into an unsynchronised cache.
	v31 := openapitest.Load(t, healthy)
	v30 := openapitest.LoadPath(t, healthy, openapitest.Downgrade30Path)
	vBroken := openapitest.Load(t, broken)

	for _, v := range []*openapitest.Validator{v31, v30} {
		t.Run(strings.TrimPrefix(v.Path, "/"), func(t *testing.T) {
			t.Parallel()
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					t.Parallel()
					rec := v.Serve(t, c.engine, httptest.NewRequest(c.method, c.path, nil))
					if rec.Code != c.status {
						t.Errorf("%s %s: status %d, want %d", c.method, c.path, rec.Code, c.status)
					}
					if mt, _, _ := mime.ParseMediaType(rec.Header().Get("Content-Type")); mt != c.ctypeIs {
						t.Errorf("%s %s: Content-Type %q, want %s", c.method, c.path, rec.Header().Get("Content-Type"), c.ctypeIs)
					}
				})
			}
		})
	}

	t.Run("over the network with Do", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewServer(broken)
		t.Cleanup(srv.Close)
		v := vBroken
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/readyz", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, body := v.Do(t, srv.Client(), req)
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("GET /readyz: status %d, want 503", resp.StatusCode)
		}
		var p rest.Problem
		if err := json.Unmarshal(body, &p); err != nil {
			t.Fatal(err)
		}
		if p.Code != "not_ready" || p.Checks["database"] != "failing" || p.Checks["redis"] != "disabled" {
			t.Errorf("GET /readyz problem = %+v, want not_ready naming the failing database", p)
		}
	})

	// Check must be able to fail, or every test using it proves nothing.
	t.Run("mismatches are reported", func(t *testing.T) {
		t.Parallel()
		v := v31
		jsonCT := http.Header{"Content-Type": {"application/json"}}
		problemCT := http.Header{"Content-Type": {rest.ProblemContentType}}
		const problem = `{"type":"urn:lenticular:problem:not_ready","title":"Service Unavailable","status":503,` +
			`"detail":"d","code":"not_ready","request_id":"r"}`
		for _, c := range []struct {
			name, method, path string
			status             int
			header             http.Header
			body, want         string
		}{
			{"wrong type", "GET", "/healthz", 200, jsonCT, `{"status": 5}`, "GET /healthz -> 200"},
			{"missing property", "GET", "/readyz", 200, jsonCT, `{"status":"ok"}`, "GET /readyz -> 200"},
			{"extra property", "GET", "/healthz", 200, jsonCT, `{"status":"ok","uptime":3}`, "GET /healthz -> 200"},
			{"not JSON", "GET", "/healthz", 200, jsonCT, `ok`, "GET /healthz -> 200"},
			{"wrong content type", "GET", "/healthz", 200, http.Header{"Content-Type": {"text/plain"}}, `{"status":"ok"}`, "GET /healthz -> 200"},
			{"undocumented status", "GET", "/readyz", 418, problemCT, strings.Replace(problem, "503", "418", 1), "GET /readyz -> 418"},
			{"problem missing code", "GET", "/readyz", 503, problemCT, strings.Replace(problem, `"code":"not_ready",`, "", 1), "GET /readyz -> 503"},
			{"undocumented path", "GET", "/v1/undocumented", 200, jsonCT, `{}`, "GET /v1/undocumented -> 200"},
			{"undocumented method", "POST", "/healthz", 200, jsonCT, `{"status":"ok"}`, "POST /healthz -> 200"},
			{"404 not a problem", "GET", "/v1/nope", 404, jsonCT, `{"error":"not found"}`, "GET /v1/nope -> 404"},
		} {
			tb := &driftTB{TB: t}
			v.Check(tb, httptest.NewRequest(c.method, c.path, nil), c.status, c.header, []byte(c.body))
			if len(tb.failures) == 0 {
				t.Errorf("%s: Check accepted %s %s -> %d %s", c.name, c.method, c.path, c.status, c.body)
				continue
			}
			if msg := strings.Join(tb.failures, "\n"); !strings.Contains(msg, c.want) {
				t.Errorf("%s: the failure does not name %q:\n%s", c.name, c.want, msg)
			}
		}

		// The same response with the right body passes.
		tb := &driftTB{TB: t}
		v.Check(tb, httptest.NewRequest("GET", "/healthz", nil), 200, jsonCT, []byte(`{"status":"ok"}`))
		if len(tb.failures) != 0 {
			t.Errorf("Check refused a valid /healthz answer: %s", tb.failures)
		}
	})
}

// driftTB records failures instead of failing the test, to prove a check
// can fail.
type driftTB struct {
	testing.TB
	failures []string
}

func (r *driftTB) Helper()           {}
func (r *driftTB) Error(args ...any) { r.failures = append(r.failures, fmt.Sprint(args...)) }
func (r *driftTB) Errorf(format string, args ...any) {
	r.failures = append(r.failures, fmt.Sprintf(format, args...))
}
func (r *driftTB) Fatal(args ...any)                 { r.Error(args...) }
func (r *driftTB) Fatalf(format string, args ...any) { r.Errorf(format, args...) }
func (r *driftTB) Fail()                             { r.failures = append(r.failures, "Fail") }
func (r *driftTB) FailNow()                          { r.Fail() }
