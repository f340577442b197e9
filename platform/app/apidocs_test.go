package app

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httputil"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/lenticular/lenticular/adapters/rest/openapitest"
)

// TestAPIDocumentationIsComplete reads /openapi.json of the fully composed
// service (every module wired) and requires of every operation what a
// client developer needs to call it without reading Go code: a summary and
// a description; an example on every property of the request body and of
// the 2xx JSON answers (components and nested objects included) and on
// every parameter; every error answer as application/problem+json listing
// its problem codes with a sample; and security on every operation that
// refuses an anonymous caller with 401 authentication_required (found by
// calling each operation without credentials). Both renderings of the
// document must also pass kin-openapi's validation (the 3.0 one has its
// examples checked against their schemas).
func TestAPIDocumentationIsComplete(t *testing.T) {
	_, base := startApp(t, testConfig(t, nil))
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	openapitest.Load(t, proxy)
	openapitest.LoadPath(t, proxy, openapitest.Downgrade30Path)

	res, err := http.Get(base + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET /openapi.json: %d %v", res.StatusCode, err)
	}
	var doc apiDoc
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.operations()) < 25 {
		t.Fatalf("the document has %d operations; is every module wired?", len(doc.operations()))
	}
	protected := probeAuthentication(t, base, doc)
	// The probe must see the authentication middleware at work, or the
	// security rule below checks nothing.
	if !protected["GET /v1/users/me (get-me)"] || protected["GET /v1/links (listLinks)"] {
		t.Errorf("anonymous probe: GET /v1/users/me refused %v, GET /v1/links refused %v; want true, false",
			protected["GET /v1/users/me (get-me)"], protected["GET /v1/links (listLinks)"])
	}
	for _, p := range doc.problems(protected) {
		t.Error(p)
	}
}

// probeAuthentication calls every operation without credentials and
// reports which ones refuse it with 401 authentication_required.
func probeAuthentication(t *testing.T, base string, doc apiDoc) map[string]bool {
	t.Helper()
	protected := map[string]bool{}
	for _, op := range doc.operations() {
		path := op.path
		for _, p := range op.Parameters {
			if p.In == "path" {
				path = strings.ReplaceAll(path, "{"+p.Name+"}", url.PathEscape(fmt.Sprint(p.example())))
			}
		}
		req, err := http.NewRequestWithContext(t.Context(), op.method, base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Code string `json:"code"`
		}
		_ = json.NewDecoder(res.Body).Decode(&body)
		res.Body.Close()
		protected[op.name()] = res.StatusCode == http.StatusUnauthorized && body.Code == "authentication_required"
	}
	return protected
}

// apiDoc is the part of an OpenAPI 3.1 document the audit reads.
type apiDoc struct {
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Schemas map[string]*apiSchema `json:"schemas"`
	} `json:"components"`
}

type apiSchema struct {
	Ref                  string                `json:"$ref"`
	Properties           map[string]*apiSchema `json:"properties"`
	Items                *apiSchema            `json:"items"`
	AdditionalProperties json.RawMessage       `json:"additionalProperties"`
	Example              json.RawMessage       `json:"example"`
	Examples             []json.RawMessage     `json:"examples"`
}

func (s *apiSchema) hasExample() bool { return s != nil && (s.Example != nil || len(s.Examples) > 0) }

type apiMediaType struct {
	Schema   *apiSchema `json:"schema"`
	Examples map[string]struct {
		Value struct {
			Code string `json:"code"`
		} `json:"value"`
	} `json:"examples"`
}

type apiParam struct {
	Name     string          `json:"name"`
	In       string          `json:"in"`
	Example  json.RawMessage `json:"example"`
	Examples map[string]any  `json:"examples"`
	Schema   *apiSchema      `json:"schema"`
}

// example is a value to put in a request.
func (p apiParam) example() any {
	var v any
	switch {
	case p.Example != nil:
		_ = json.Unmarshal(p.Example, &v)
	case p.Schema != nil && p.Schema.Example != nil:
		_ = json.Unmarshal(p.Schema.Example, &v)
	case p.Schema != nil && len(p.Schema.Examples) > 0:
		_ = json.Unmarshal(p.Schema.Examples[0], &v)
	default:
		v = "example"
	}
	return v
}

func (p apiParam) hasExample() bool {
	return p.Example != nil || len(p.Examples) > 0 || p.Schema.hasExample()
}

type apiOperation struct {
	method, path string
	OperationID  string                                      `json:"operationId"`
	Summary      string                                      `json:"summary"`
	Description  string                                      `json:"description"`
	Parameters   []apiParam                                  `json:"parameters"`
	Security     []map[string][]string                       `json:"security"`
	RequestBody  *struct{ Content map[string]*apiMediaType } `json:"requestBody"`
	Responses    map[string]*struct {
		Description string                   `json:"description"`
		Content     map[string]*apiMediaType `json:"content"`
	} `json:"responses"`
}

func (op apiOperation) name() string {
	return fmt.Sprintf("%s %s (%s)", op.method, op.path, op.OperationID)
}

var operationMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// operations lists the document's operations in a stable order.
func (d apiDoc) operations() []apiOperation {
	var ops []apiOperation
	for _, path := range slices.Sorted(maps.Keys(d.Paths)) {
		for _, m := range operationMethods {
			raw, ok := d.Paths[path][m]
			if !ok {
				continue
			}
			var op apiOperation
			if err := json.Unmarshal(raw, &op); err != nil {
				panic(fmt.Sprintf("%s %s: %v", m, path, err))
			}
			op.method, op.path = strings.ToUpper(m), path
			ops = append(ops, op)
		}
	}
	return ops
}

// problemCode is how an error response's description lists a code.
var problemCode = regexp.MustCompile("`([a-z][a-z0-9_]*)`")

// problems audits the document; protected tells, for the operations it
// names, whether an anonymous call was refused with 401
// authentication_required. Each line names the operation.
func (d apiDoc) problems(protected map[string]bool) []string {
	var out []string
	for _, op := range d.operations() {
		fail := func(format string, args ...any) {
			out = append(out, op.name()+": "+fmt.Sprintf(format, args...))
		}
		if strings.TrimSpace(op.Summary) == "" {
			fail("no summary")
		}
		if strings.TrimSpace(op.Description) == "" {
			fail("no description")
		}
		for _, p := range op.Parameters {
			if !p.hasExample() {
				fail("%s parameter %q has no example", p.In, p.Name)
			}
		}
		if op.RequestBody != nil {
			mt := op.RequestBody.Content["application/json"]
			if mt == nil || mt.Schema == nil {
				fail("the request body has no application/json schema")
			} else {
				for _, prop := range d.missingExamples(mt.Schema, "", map[string]bool{}) {
					fail("request body property %s has no example", prop)
				}
			}
		}
		for _, status := range slices.Sorted(maps.Keys(op.Responses)) {
			resp := op.Responses[status]
			code, _ := strconv.Atoi(status)
			switch {
			case code >= 200 && code < 300:
				if mt := resp.Content["application/json"]; mt != nil && mt.Schema != nil {
					for _, prop := range d.missingExamples(mt.Schema, "", map[string]bool{}) {
						fail("%s response property %s has no example", status, prop)
					}
				}
			case code >= 400 || status == "default":
				mt := resp.Content["application/problem+json"]
				if mt == nil {
					fail("%s response is not application/problem+json", status)
					continue
				}
				var listed []string
				for _, m := range problemCode.FindAllStringSubmatch(resp.Description, -1) {
					listed = append(listed, m[1])
				}
				if len(listed) == 0 {
					fail("%s response description lists no problem code: %q", status, resp.Description)
					continue
				}
				if len(mt.Examples) == 0 {
					fail("%s response has no sample problem", status)
				}
				for name, ex := range mt.Examples {
					if !slices.Contains(listed, ex.Value.Code) {
						fail("%s response sample %q has code %q, which the description does not list", status, name, ex.Value.Code)
					}
				}
			}
		}
		refused, probed := protected[op.name()]
		switch {
		case probed && refused && len(op.Security) == 0:
			fail("refuses anonymous callers (401 authentication_required) but declares no security")
		case probed && !refused && len(op.Security) > 0:
			fail("declares security but did not refuse an anonymous caller")
		}
	}
	return out
}

// missingExamples lists the properties of s, followed through $refs into
// components/schemas and into nested objects and array items, that have
// no example. A property that is an object with properties (or an array of
// them) is checked field by field instead.
func (d apiDoc) missingExamples(s *apiSchema, prefix string, seen map[string]bool) []string {
	seen = maps.Clone(seen) // the references being walked on this branch only
	s, ok := d.resolve(s, seen)
	if !ok {
		return nil
	}
	var out []string
	for _, name := range slices.Sorted(maps.Keys(s.Properties)) {
		prop, where := s.Properties[name], prefix+name
		target, _ := d.resolve(prop, map[string]bool{})
		switch {
		case target != nil && len(target.Properties) > 0:
			out = append(out, d.missingExamples(prop, where+".", seen)...)
		case target != nil && target.Items != nil:
			items, _ := d.resolve(target.Items, map[string]bool{})
			if items != nil && len(items.Properties) > 0 {
				out = append(out, d.missingExamples(target.Items, where+"[].", seen)...)
			} else if !prop.hasExample() && !target.hasExample() {
				out = append(out, where)
			}
		case !prop.hasExample() && !target.hasExample():
			out = append(out, where)
		}
	}
	return out
}

// resolve follows $refs into components/schemas; ok is false for a
// reference already being walked (a recursive schema) or a dangling one.
func (d apiDoc) resolve(s *apiSchema, seen map[string]bool) (*apiSchema, bool) {
	for s != nil && s.Ref != "" {
		if seen[s.Ref] {
			return nil, false
		}
		seen[s.Ref] = true
		s = d.Components.Schemas[strings.TrimPrefix(s.Ref, "#/components/schemas/")]
	}
	return s, s != nil
}

// TestAPIDocumentationAuditFails shows each rule of the audit failing on a
// small document, naming the operation.
func TestAPIDocumentationAuditFails(t *testing.T) {
	t.Parallel()
	const good = `{
	  "paths": {"/v1/things/{id}": {"patch": {
	    "operationId": "update-thing", "summary": "Edit a thing", "description": "Edits it.",
	    "security": [{"bearer": []}],
	    "parameters": [{"name": "id", "in": "path", "schema": {"type": "string", "examples": ["01927b1e"]}}],
	    "requestBody": {"content": {"application/json": {"schema": {"type": "object", "properties": {
	      "name": {"type": "string", "examples": ["lamp"]}}}}}},
	    "responses": {
	      "200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}},
	      "409": {"description": "Conflict. Problem codes: ` + "`name_taken`" + `.", "content": {"application/problem+json": {
	        "schema": {"$ref": "#/components/schemas/Problem"},
	        "examples": {"name_taken": {"value": {"code": "name_taken"}}}}}}
	    }}}},
	  "components": {"schemas": {
	    "Thing": {"type": "object", "properties": {
	      "id": {"type": "string", "examples": ["01927b1e"]},
	      "owner": {"$ref": "#/components/schemas/Owner"},
	      "tags": {"type": "array", "items": {"type": "string"}, "examples": [["a"]]},
	      "parts": {"type": "array", "items": {"$ref": "#/components/schemas/Owner"}}}},
	    "Owner": {"type": "object", "properties": {"name": {"type": "string", "examples": ["Ada"]}}},
	    "Problem": {"type": "object"}
	  }}
	}`
	const op = "PATCH /v1/things/{id} (update-thing)"
	cases := []struct {
		name      string
		old, new  string
		protected map[string]bool
		want      string
	}{
		{"no summary", `"summary": "Edit a thing"`, `"summary": ""`, nil, "no summary"},
		{"no description", `"description": "Edits it."`, `"description": ""`, nil, "no description"},
		{"path parameter without example", `"schema": {"type": "string", "examples": ["01927b1e"]}}]`, `"schema": {"type": "string"}}]`, nil,
			`path parameter "id" has no example`},
		{"request property without example", `"name": {"type": "string", "examples": ["lamp"]}`, `"name": {"type": "string"}`, nil,
			"request body property name has no example"},
		{"nested response property without example", `"Owner": {"type": "object", "properties": {"name": {"type": "string", "examples": ["Ada"]}}}`,
			`"Owner": {"type": "object", "properties": {"name": {"type": "string"}}}`, nil, "200 response property owner.name has no example"},
		{"array item property without example", `"Owner": {"type": "object", "properties": {"name": {"type": "string", "examples": ["Ada"]}}}`,
			`"Owner": {"type": "object", "properties": {"name": {"type": "string"}}}`, nil, "200 response property parts[].name has no example"},
		{"error response not problem+json", `"content": {"application/problem+json": {`, `"content": {"application/json": {`, nil,
			"409 response is not application/problem+json"},
		{"error response without codes", "Problem codes: `name_taken`.", "Conflict.", nil, "409 response description lists no problem code"},
		{"sample with an unlisted code", `"value": {"code": "name_taken"}`, `"value": {"code": "other"}`, nil, `has code "other"`},
		{"protected operation without security", `"security": [{"bearer": []}],`, ``, map[string]bool{op: true},
			"declares no security"},
		{"security on a public operation", ``, ``, map[string]bool{op: false}, "did not refuse an anonymous caller"},
	}
	parse := func(t *testing.T, s string) apiDoc {
		t.Helper()
		var d apiDoc
		if err := json.Unmarshal([]byte(s), &d); err != nil {
			t.Fatal(err)
		}
		return d
	}
	if got := parse(t, good).problems(map[string]bool{op: true}); len(got) != 0 {
		t.Fatalf("the complete document fails: %q", got)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if !strings.Contains(good, c.old) {
				t.Fatalf("the case edits %q, which the document does not contain", c.old)
			}
			got := parse(t, strings.Replace(good, c.old, c.new, 1)).problems(c.protected)
			msg := strings.Join(got, "\n")
			if !strings.Contains(msg, op+": ") || !strings.Contains(msg, c.want) {
				t.Errorf("want a failure naming %s with %q, got:\n%s", op, c.want, msg)
			}
		})
	}
}
