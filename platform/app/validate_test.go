package app

import (
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"

	"github.com/lenticular/lenticular/adapters/rest/openapitest"
)

// validators holds the OpenAPI validator of every app a test started, by
// listener address, so every helper that speaks HTTP to a public listener
// checks the answer against the served document (the drift guard).
var validators sync.Map

func registerValidator(t *testing.T, base string) {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	validators.Store(u.Host, openapitest.Load(t, httputil.NewSingleHostReverseProxy(u)))
	t.Cleanup(func() { validators.Delete(u.Host) })
}

// checkAgainstDocument validates one exchange when it went to a public
// listener; private listeners (metrics) are not part of the API document.
func checkAgainstDocument(t *testing.T, req *http.Request, res *http.Response, body []byte) {
	t.Helper()
	switch req.URL.Path {
	case "/openapi.json", "/openapi-3.0.json", "/docs":
		return // the documents themselves are not operations of the API
	}
	if v, ok := validators.Load(req.URL.Host); ok {
		v.(*openapitest.Validator).Check(t, req, res.StatusCode, res.Header, body)
	}
}

// doChecked performs req, reads the body and validates the exchange.
func doChecked(t *testing.T, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	checkAgainstDocument(t, req, res, body)
	return res, body
}
