package rest

import (
	"net/http"
	"reflect"
	"slices"
	"testing"

	"github.com/danielgtaylor/huma/v2"
)

func TestMergeMetadata(t *testing.T) {
	t.Parallel()
	m := MergeMetadata(RequireRole("admin"), Codes(http.StatusNotFound, "not_found"),
		Codes(http.StatusConflict, "last_admin"), Codes(http.StatusNotFound, "not_found"))
	op := &huma.Operation{Metadata: m}
	if got := requiredRoles(op); !slices.Equal(got, []string{"admin"}) {
		t.Errorf("roles = %q, want [admin]", got)
	}
	want := map[int][]string{http.StatusNotFound: {"not_found"}, http.StatusConflict: {"last_admin"}}
	if got := declaredCodes(op); !reflect.DeepEqual(got, want) {
		t.Errorf("codes = %v, want %v", got, want)
	}
}

func TestOperationCodes(t *testing.T) {
	t.Parallel()
	type bodyInput struct {
		Body struct {
			Name string `json:"name"`
		}
	}
	type pathInput struct {
		ID string `path:"id"`
	}
	cases := []struct {
		name     string
		op       huma.Operation
		input    reflect.Type
		deployed bool
		want     map[int][]string
	}{
		{"probe", huma.Operation{Method: http.MethodGet, Path: "/healthz"}, reflect.TypeFor[struct{}](), true,
			map[int][]string{500: {"internal_error"}}},
		{"public read", huma.Operation{Method: http.MethodGet, Path: "/v1/things/{id}", Metadata: Codes(404, "not_found")},
			reflect.TypeFor[pathInput](), true,
			map[int][]string{404: {"not_found"}, 422: {"validation_failed"}, 429: {"rate_limited"},
				500: {"internal_error"}, 503: {"database_unavailable"}}},
		{"authenticated role-restricted write, deployed", huma.Operation{Method: http.MethodPatch, Path: "/v1/things",
			Security: AuthRequired, Metadata: MergeMetadata(RequireRole("admin"), Codes(409, "last_admin"))},
			reflect.TypeFor[bodyInput](), true,
			map[int][]string{
				400: {"malformed_request"},
				401: {"authentication_required", "invalid_token", "session_revoked"},
				403: {"csrf_failed", "forbidden", "https_required"},
				409: {"last_admin"}, 413: {"payload_too_large"}, 415: {"unsupported_media_type"},
				422: {"validation_failed"}, 429: {"rate_limited"}, 500: {"internal_error"}, 503: {"database_unavailable"},
			}},
		{"authenticated read, development", huma.Operation{Method: http.MethodGet, Path: "/v1/me", Security: AuthRequired},
			reflect.TypeFor[struct{}](), false,
			map[int][]string{401: {"authentication_required", "invalid_token", "session_revoked"},
				429: {"rate_limited"}, 500: {"internal_error"}, 503: {"database_unavailable"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if got := operationCodes(&c.op, c.input, c.deployed); !reflect.DeepEqual(got, c.want) {
				t.Errorf("operationCodes = %v\nwant %v", got, c.want)
			}
		})
	}
}

func TestOperationCodesRefusesWhatTheServiceNeverSays(t *testing.T) {
	t.Parallel()
	for name, op := range map[string]huma.Operation{
		"unknown code":           {Method: http.MethodGet, Path: "/v1/x", Metadata: Codes(409, "no_such_code")},
		"known code, bad status": {Method: http.MethodGet, Path: "/v1/x", Metadata: Codes(409, "not_found")},
		"status without a code":  {Method: http.MethodGet, Path: "/v1/x", Errors: []int{http.StatusNotFound}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			defer func() {
				if recover() == nil {
					t.Errorf("operationCodes accepted %s", name)
				}
			}()
			operationCodes(&op, reflect.TypeFor[struct{}](), false)
		})
	}
}

func TestCSRFRuleInDescriptions(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		op   huma.Operation
		want bool
	}{
		{huma.Operation{Method: http.MethodPost, Security: AuthRequired, Description: "Does it."}, true},
		{huma.Operation{Method: http.MethodGet, Security: AuthRequired, Description: "Reads it."}, false},
		{huma.Operation{Method: http.MethodPost, Description: "Public."}, false},
	} {
		op := c.op
		describeSecurity(&op)
		if got := op.Description != c.op.Description; got != c.want {
			t.Errorf("%s %q: CSRF note added %v, want %v (%q)", op.Method, c.op.Description, got, c.want, op.Description)
		}
	}
}
