package rest_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

func TestZZKin(t *testing.T) {
	for _, f := range []string{"/tmp/scratchopenapi.json.out", "/tmp/scratchopenapi-3.0.json.out"} {
		raw, _ := os.ReadFile(f)
		_, raw, _ = bytes.Cut(raw, []byte("\n"))
		doc, err := openapi3.NewLoader().LoadFromData(raw)
		t.Log(f, "load", err)
		if err != nil { continue }
		t.Log("validate", doc.Validate(context.Background()))
		doc.Info.Version = "x"
		t.Log("validate", doc.Validate(context.Background()))
		r, err := gorillamux.NewRouter(doc)
		t.Log("router", err)
		for _, c := range []struct{ path string; status int; ct, body string }{
			{"/healthz", 200, "application/json", `{"status":"ok"}`},
			{"/healthz", 200, "application/json", `{"status":5}`},
			{"/healthz", 200, "application/json", `{"status":"ok","x":1}`},
			{"/healthz", 200, "application/json", `{}`},
			{"/healthz", 200, "text/plain", `ok`},
			{"/healthz", 429, "application/problem+json", `{"type":"a","title":"b","status":429,"detail":"d","code":"c","request_id":"r"}`},
			{"/healthz", 429, "application/problem+json", `{"type":"a","title":"b","status":429,"detail":"d","code":"c","request_id":"r","errors":null}`},
			{"/healthz", 429, "application/problem+json", `{"type":"a","title":"b","status":429,"detail":"d","code":"c","request_id":"r","errors":[{"field":"a","code":"b","message":"c"}]}`},
			{"/healthz", 429, "application/problem+json", `{"type":"a","title":"b","status":429,"detail":"d","code":"c","request_id":"r","errors":[{"field":1,"code":"b","message":"c"}]}`},
			{"/healthz", 429, "application/problem+json", `{"type":"a","title":"b","status":"429","detail":"d","code":"c"}`},
			{"/readyz", 429, "application/problem+json", `{"type":"a","title":"b","status":429,"detail":"d","code":"c","request_id":"r"}`},
			{"/readyz", 503, "application/problem+json", `{"type":"a","title":"b","status":503,"detail":"d","code":"c","request_id":"r","checks":{"a":"failing"}}`},
			{"/readyz", 503, "application/problem+json", `{"type":"a","title":"b","status":503,"detail":"d","code":"c","request_id":"r","checks":{"a":1}}`},
		} {
			req := httptest.NewRequest("GET", c.path, nil)
			route, params, err := r.FindRoute(req)
			if err != nil { t.Log(err); continue }
			in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
			err = openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
				RequestValidationInput: in, Status: c.status, Header: http.Header{"Content-Type": {c.ct}}, Body: io.NopCloser(strings.NewReader(c.body)),
				Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
			})
			t.Logf("%s %d %s -> %v", c.path, c.status, c.body, err)
		}
	}
}
