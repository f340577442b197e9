package rest

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/getsentry/sentry-go"
	"github.com/gin-gonic/gin"

	"github.com/lenticular/lenticular/adapters/memory"
	"github.com/lenticular/lenticular/platform/observability"
	"github.com/lenticular/lenticular/platform/observability/sentrytest"
)

type itemInput struct {
	ID string `path:"id"`
}

// sentryRoutes fail after authentication set the user, with a secret-laden
// message, so the test can check what reaches Sentry.
type sentryRoutes struct{}

func (sentryRoutes) Register(api *API) {
	Register(api, huma.Operation{OperationID: "item-panic", Method: http.MethodGet, Path: "/v1/test/items/{id}/panic", Summary: "Panic"},
		func(ctx context.Context, _ *itemInput) (*echoOutput, error) {
			withPrincipal(ctx, Principal{UserID: "user-42"})
			panic("cannot load " + secretEmail + " with Bearer " + secretToken)
		})
	Register(api, huma.Operation{OperationID: "item-fail", Method: http.MethodGet, Path: "/v1/test/items/{id}/fail", Summary: "Fail"},
		func(ctx context.Context, _ *itemInput) (*echoOutput, error) {
			withPrincipal(ctx, Principal{UserID: "user-43"})
			return nil, errors.New("dial postgres://app:" + secretPassword + "@db/app failed")
		})
}

func sentryRouter(t *testing.T) (*gin.Engine, *sentrytest.Transport) {
	t.Helper()
	tr := &sentrytest.Transport{}
	on, err := observability.InitSentry(observability.SentryOptions{
		DSN: sentrytest.DSN, Environment: "test", Release: "v-test", ServerName: "host-1",
		TracesSampleRate: 1, Transport: tr,
	})
	if err != nil || !on {
		t.Fatalf("InitSentry = %v, %v", on, err)
	}
	t.Cleanup(func() {
		_, _ = observability.InitSentry(observability.SentryOptions{})
		sentry.CurrentHub().BindClient(nil)
	})
	engine, _ := NewRouter(Deps{
		Config: testConfig(t, nil), Logger: slog.New(slog.DiscardHandler), Version: "test",
		Limiter: memory.NewLimiter(), Routes: []Routes{testRoutes{}, sentryRoutes{}}, Sentry: true,
	})
	return engine, tr
}

func secretRequest(path string) request {
	return request{method: http.MethodGet, path: path + "?token=query-secret-4&q=x", header: map[string]string{
		"Authorization": "Bearer header-secret-6", "Cookie": "lt_access=cookie-secret-3",
		"X-CSRF-Token": "csrf-secret-5", HeaderRequestID: "rid-" + strings.ReplaceAll(path, "/", "-"),
	}}
}

func TestSentryCapturesPanicsAndServerErrors(t *testing.T) {
	engine, tr := sentryRouter(t)
	cases := []struct {
		path, route, user string
	}{
		{"/v1/test/items/7/panic", "/v1/test/items/{id}/panic", "user-42"},
		{"/v1/test/items/8/fail", "/v1/test/items/{id}/fail", "user-43"},
	}
	for _, tc := range cases {
		t.Run(tc.route, func(t *testing.T) {
			tr.Reset()
			r := secretRequest(tc.path)
			w := serve(engine, r)
			if w.Code != http.StatusInternalServerError {
				t.Fatalf("status %d, want 500", w.Code)
			}
			sentry.Flush(time.Second)
			events := tr.Events()
			if len(events) != 1 {
				t.Fatalf("%d events, want 1", len(events))
			}
			e := events[0]
			checks := map[string][2]string{
				"request_id tag": {e.Tags["request_id"], r.header[HeaderRequestID]},
				"route tag":      {e.Tags["route"], tc.route},
				"user id":        {e.User.ID, tc.user},
				"transaction":    {e.Transaction, "GET " + tc.route},
				"environment":    {e.Environment, "test"},
				"release":        {e.Release, "v-test"},
				"server name":    {e.ServerName, "host-1"},
			}
			for name, c := range checks {
				if c[0] != c[1] {
					t.Errorf("%s = %q, want %q", name, c[0], c[1])
				}
			}
			if len(e.Exception) == 0 && e.Message == "" {
				t.Error("neither an exception nor a message in the event")
			}
			assertNoSecrets(t, e)
		})
	}
}

func TestSentryTransactionsAreNamedByRouteTemplate(t *testing.T) {
	engine, tr := sentryRouter(t)
	for _, r := range []request{
		{method: http.MethodPost, path: "/v1/test/echo", body: `{"name":"abc"}`},
		{method: http.MethodDelete, path: "/v1/test/echo?token=query-secret-4"}, // 405: no route matched
		secretRequest("/v1/test/items/9/fail"),
	} {
		serve(engine, r)
	}
	sentry.Flush(time.Second)
	var names []string
	for _, e := range tr.Transactions() {
		names = append(names, e.Transaction)
		assertNoSecrets(t, e)
		if e.Tags["request_id"] == "" {
			t.Errorf("transaction %q has no request_id tag", e.Transaction)
		}
	}
	// Sentry drops 404 transactions by default (TraceIgnoreStatusCodes).
	want := []string{"POST /v1/test/echo", "DELETE unmatched", "GET /v1/test/items/{id}/fail"}
	if strings.Join(names, "|") != strings.Join(want, "|") {
		t.Errorf("transactions = %q, want %q", names, want)
	}
}

func assertNoSecrets(t *testing.T, e *sentry.Event) {
	t.Helper()
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range requestSecrets {
		if strings.Contains(string(b), s) {
			t.Errorf("event contains %q:\n%s", s, b)
		}
	}
}

func TestRouteTemplate(t *testing.T) {
	for in, want := range map[string]string{
		"": "unmatched", "/healthz": "/healthz", "/v1/users/:id": "/v1/users/{id}",
		"/v1/links/:id/saves/:user": "/v1/links/{id}/saves/{user}", "/files/*path": "/files/{path}",
	} {
		if got := routeTemplate(in); got != want {
			t.Errorf("routeTemplate(%q) = %q, want %q", in, got, want)
		}
	}
}

// The secrets are assembled here, far from any line a stack frame points
// at, so that Sentry's source context cannot carry them into an event: what
// the test finds in an event came from the request or the error.
var (
	secretToken    = strings.Join([]string{"tok", "secret", "1"}, "-")
	secretPassword = strings.Join([]string{"pg", "secret", "2"}, "-")
	secretEmail    = strings.Join([]string{"alice", "example.com"}, "@")
	requestSecrets = []string{
		secretToken, secretPassword, secretEmail, "cookie-secret-3", "query-secret-4", "csrf-secret-5",
		"header-secret-6",
	}
)
