package openapitest_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/lenticular/lenticular/adapters/rest/openapitest"
)

// document is a small hand-written 3.1 document with the shapes the
// service's real one uses: a problem schema, a path parameter, a query
// parameter, a request body, a response without a body and a nullable
// field.
const document = `{
  "openapi": "3.1.0",
  "info": {"title": "t", "version": "1"},
  "servers": [{"url": "https://api.example.com"}],
  "paths": {
    "/v1/things/{id}": {
      "get": {
        "operationId": "get-thing", "summary": "Get",
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}}],
        "responses": {
          "200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}},
          "404": {"description": "Not Found", "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
        }
      },
      "delete": {
        "operationId": "delete-thing", "summary": "Delete",
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
        "responses": {"204": {"description": "No Content"}}
      }
    },
    "/v1/things": {
      "post": {
        "operationId": "create-thing", "summary": "Create",
        "parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}}],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {
          "type": "object", "additionalProperties": false, "required": ["name"],
          "properties": {"name": {"type": "string", "minLength": 1}}}}}},
        "responses": {
          "201": {"description": "Created", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}},
          "default": {"description": "Error", "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
        }
      }
    }
  },
  "components": {"schemas": {
    "Thing": {"type": "object", "additionalProperties": false, "required": ["id", "name", "deleted_at"], "properties": {
      "id": {"type": "string", "format": "uuid"},
      "name": {"type": "string"},
      "deleted_at": {"type": ["string", "null"], "format": "date-time"}}},
    "Problem": {"type": "object", "additionalProperties": false, "required": ["status", "code"], "properties": {
      "status": {"type": "integer"}, "code": {"type": "string"}}}
  }}
}`

func serveDocument() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/openapi+json")
		_, _ = w.Write([]byte(document))
	})
	return mux
}

// recorder records failures instead of failing the test.
type recorder struct {
	testing.TB
	failures []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.failures = append(r.failures, fmt.Sprintf(format, args...))
}
func (r *recorder) Fatalf(format string, args ...any) { r.Errorf(format, args...) }

const (
	thingID = "0192d5a4-7b3c-7def-8123-456789abcdef"
	thing   = `{"id":"` + thingID + `","name":"n","deleted_at":null}`
)

func TestCheck(t *testing.T) {
	t.Parallel()
	v := openapitest.Load(t, serveDocument())
	jsonCT := http.Header{"Content-Type": {"application/json"}}
	problemCT := http.Header{"Content-Type": {"application/problem+json"}}
	preflight := httptest.NewRequest(http.MethodOptions, "/v1/anything", nil)
	preflight.Header.Set("Origin", "https://app.example.com")
	preflight.Header.Set("Access-Control-Request-Method", "POST")

	for _, c := range []struct {
		name   string
		req    *http.Request
		status int
		header http.Header
		body   string
		fails  string // "" when the response matches
	}{
		{"documented answer", get("/v1/things/" + thingID), 200, jsonCT, thing, ""},
		{"absolute URL, any host", get("http://127.0.0.1:8080/v1/things/" + thingID), 200, jsonCT, thing, ""},
		{"charset parameter", get("/v1/things/x"), 200, http.Header{"Content-Type": {"application/json; charset=utf-8"}}, thing, ""},
		{"nullable set", get("/v1/things/x"), 200, jsonCT, strings.Replace(thing, "null", `"2024-05-01T10:00:00Z"`, 1), ""},
		{"documented problem", get("/v1/things/x"), 404, problemCT, `{"status":404,"code":"not_found"}`, ""},
		{"default response", httptest.NewRequest("POST", "/v1/things", nil), 429, problemCT, `{"status":429,"code":"rate_limited"}`, ""},
		{"no content", httptest.NewRequest("DELETE", "/v1/things/x", nil), 204, nil, "", ""},
		{"router 404", get("/v1/nothing/here"), 404, problemCT, `{"status":404,"code":"not_found"}`, ""},
		{"router 405", httptest.NewRequest("PUT", "/v1/things/x", nil), 405, problemCT, `{"status":405,"code":"method_not_allowed"}`, ""},
		{"CORS preflight", preflight, 204, nil, "", ""},

		{"bad uuid", get("/v1/things/x"), 200, jsonCT, strings.Replace(thing, thingID, "42", 1), `GET /v1/things/x -> 200`},
		{"bad date-time", get("/v1/things/x"), 200, jsonCT, strings.Replace(thing, "null", `"yesterday"`, 1), "deleted_at"},
		{"null where required", get("/v1/things/x"), 200, jsonCT, strings.Replace(thing, `"n"`, "null", 1), "name"},
		{"undocumented status", get("/v1/things/x"), 500, problemCT, `{"status":500,"code":"internal_error"}`, "GET /v1/things/x -> 500"},
		{"problem as plain JSON", get("/v1/things/x"), 404, jsonCT, `{"status":404,"code":"not_found"}`, "application/json"},
		{"body where none is documented", httptest.NewRequest("DELETE", "/v1/things/x", nil), 204, jsonCT, `{}`, "without a body"},
		{"missing body", get("/v1/things/x"), 200, nil, "", "GET /v1/things/x -> 200"},
		{"undocumented path", get("/v1/other"), 200, jsonCT, `{}`, "not in the document"},
		{"undocumented method", httptest.NewRequest("PUT", "/v1/things/x", nil), 200, jsonCT, thing, "not for method PUT"},
		{"router 404 not a problem", get("/v1/nothing"), 404, problemCT, `{"message":"nope"}`, "GET /v1/nothing -> 404"},
		{"preflight with a body", preflight, 204, nil, "x", "preflight"},
	} {
		rec := &recorder{TB: t}
		v.Check(rec, c.req, c.status, c.header, []byte(c.body))
		msg := strings.Join(rec.failures, "\n")
		switch {
		case c.fails == "" && msg != "":
			t.Errorf("%s: unexpected failure:\n%s", c.name, msg)
		case c.fails != "" && msg == "":
			t.Errorf("%s: accepted, want a failure naming %q", c.name, c.fails)
		case c.fails != "" && !strings.Contains(msg, c.fails):
			t.Errorf("%s: the failure does not name %q:\n%s", c.name, c.fails, msg)
		}
	}
}

func TestCheckRequest(t *testing.T) {
	t.Parallel()
	v := openapitest.Load(t, serveDocument())
	post := func(query, body string) *http.Request {
		r := httptest.NewRequest("POST", "/v1/things"+query, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		return r
	}
	for _, c := range []struct {
		name  string
		req   *http.Request
		body  string
		fails bool
	}{
		{"valid", post("?limit=5", ""), `{"name":"n"}`, false},
		{"unknown field", post("", ""), `{"name":"n","role":"admin"}`, true},
		{"missing field", post("", ""), `{}`, true},
		{"query out of range", post("?limit=0", ""), `{"name":"n"}`, true},
		{"path format", get("/v1/things/42"), "", true},
	} {
		rec := &recorder{TB: t}
		v.CheckRequest(rec, c.req, []byte(c.body))
		if failed := len(rec.failures) != 0; failed != c.fails {
			t.Errorf("%s: failed = %v, want %v: %s", c.name, failed, c.fails, rec.failures)
		}
	}
}

func TestDo(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.Handle("GET /openapi.json", serveDocument())
	mux.HandleFunc("GET /v1/things/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") != thingID {
			w.Header().Set("Content-Type", "application/json") // wrong: problems are problem+json
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"status":404,"code":"not_found"}`))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(thing))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	v := openapitest.Load(t, mux)

	resp, body := v.Do(t, srv.Client(), clientGet(t, srv.URL+"/v1/things/"+thingID))
	if resp.StatusCode != http.StatusOK || string(body) != thing {
		t.Fatalf("Do = %d %s", resp.StatusCode, body)
	}

	rec := &recorder{TB: t}
	resp, _ = v.Do(rec, nil, clientGet(t, srv.URL+"/v1/things/other"))
	if resp.StatusCode != http.StatusNotFound || len(rec.failures) == 0 {
		t.Errorf("Do accepted a 404 answered as application/json (failures: %q)", rec.failures)
	}
}

func TestLoadRefusesAnInvalidDocument(t *testing.T) {
	t.Parallel()
	for name, doc := range map[string]string{
		"not found":     "",
		"not JSON":      "openapi: [",
		"dangling $ref": strings.Replace(document, "#/components/schemas/Thing", "#/components/schemas/Missing", 1),
		"unknown type":  strings.Replace(document, `"type": "integer"`, `"type": "int"`, 1),
		// kin-openapi checks a 3.0 "example" against its schema (it does not
		// check 3.1 "examples"; the 3.0 downgrade covers those).
		"bad 3.0 example": `{"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {},
			"components": {"schemas": {"N": {"type": "integer", "example": "five"}}}}`,
	} {
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if doc == "" {
				http.NotFound(w, r)
				return
			}
			_, _ = w.Write([]byte(doc))
		})
		rec := &recorder{TB: t}
		if v := openapitest.Load(rec, h); v != nil || len(rec.failures) == 0 {
			t.Errorf("%s: Load accepted the document", name)
		}
	}
}

func get(target string) *http.Request {
	return httptest.NewRequest(http.MethodGet, target, nil)
}

func clientGet(t *testing.T, target string) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}
