package rest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestJSONBodiesAreSentWhole: answers and problems larger than net/http's
// buffers arrive with a Content-Length, not chunked, and decode to what the
// handler returned (HTML characters not escaped).
func TestJSONBodiesAreSentWhole(t *testing.T) {
	srv := httptest.NewServer(newTestRouter(t, nil, nil))
	defer srv.Close()
	cases := []struct {
		name, method, path, body string
		status                   int
		check                    func(t *testing.T, raw []byte)
	}{
		{"large answer", "GET", "/v1/test/big", "", 200, func(t *testing.T, raw []byte) {
			var out struct{ Name string }
			if err := json.Unmarshal(raw, &out); err != nil || out.Name != strings.Repeat("<é>", 4000) {
				t.Errorf("body decodes to %d characters, %v", len(out.Name), err)
			}
			if !strings.Contains(string(raw), "<é>") {
				t.Errorf("HTML characters escaped")
			}
		}},
		{"problem", "POST", "/v1/test/echo", `{"name":"x"}`, 422, func(t *testing.T, raw []byte) {
			var p struct{ Code string }
			if err := json.Unmarshal(raw, &p); err != nil || p.Code != "validation_failed" {
				t.Errorf("problem %s: %v", raw, err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, srv.URL+tc.path, strings.NewReader(tc.body))
			if tc.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			raw, err := io.ReadAll(res.Body)
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", res.StatusCode, tc.status)
			}
			if len(res.TransferEncoding) != 0 || res.ContentLength != int64(len(raw)) {
				t.Errorf("Transfer-Encoding %v, Content-Length %d for %d bytes", res.TransferEncoding, res.ContentLength, len(raw))
			}
			tc.check(t, raw)
		})
	}
}
