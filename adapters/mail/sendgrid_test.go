package mail

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const sendGridTestKey = "SG.test-key-0123456789abcdef"

// fakeSendGrid checks each request like the real API would and answers with
// status; body is what it writes back.
func fakeSendGrid(t *testing.T, status int, body string) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.Method != http.MethodPost || r.URL.Path != "/v3/mail/send" {
			t.Errorf("request %s %s, want POST /v3/mail/send", r.Method, r.URL.Path)
		}
		if got := r.Header.Get("Authorization"); got != "Bearer "+sendGridTestKey {
			t.Errorf("Authorization = %q", got)
		}
		if got := r.Header.Get("Content-Type"); got != "application/json" {
			t.Errorf("Content-Type = %q", got)
		}
		var req struct {
			Personalizations []struct {
				To []struct{ Email, Name string } `json:"to"`
			} `json:"personalizations"`
			From       struct{ Email, Name string }   `json:"from"`
			Subject    string                         `json:"subject"`
			Content    []struct{ Type, Value string } `json:"content"`
			CustomArgs map[string]string              `json:"custom_args"`
		}
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			t.Errorf("body: %v", err)
		}
		m := testMessage("job-21")
		if len(req.Personalizations) != 1 || len(req.Personalizations[0].To) != 1 ||
			req.Personalizations[0].To[0].Email != "ada@example.com" || req.Personalizations[0].To[0].Name != "Ada Lovelace" {
			t.Errorf("personalizations = %+v", req.Personalizations)
		}
		if req.From.Email != "no-reply@lenticular.example" || req.From.Name != "Lenticular" {
			t.Errorf("from = %+v", req.From)
		}
		if req.Subject != m.Subject {
			t.Errorf("subject = %q", req.Subject)
		}
		if len(req.Content) != 2 || req.Content[0].Type != "text/plain" || req.Content[0].Value != m.Text ||
			req.Content[1].Type != "text/html" || req.Content[1].Value != m.HTML {
			t.Errorf("content = %+v", req.Content)
		}
		if req.CustomArgs["message_id"] != "job-21" {
			t.Errorf("custom_args = %v", req.CustomArgs)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func TestSendGridStatuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status    int
		body      string
		ok        bool
		permanent bool
	}{
		{status: http.StatusAccepted, ok: true},
		{status: http.StatusOK, ok: true},
		{status: http.StatusTooManyRequests, body: `{"errors":[{"message":"too many requests"}]}`},
		{status: http.StatusServiceUnavailable, body: `{"errors":[{"message":"unavailable"}]}`},
		{status: http.StatusInternalServerError},
		{status: http.StatusBadRequest, body: `{"errors":[{"message":"bad to address","field":"personalizations.0.to"}]}`, permanent: true},
		// An answer that (unlike SendGrid's) echoes the key must not leak it.
		{status: http.StatusUnauthorized, body: `{"errors":[{"message":"key ` + sendGridTestKey + ` is invalid"}]}`, permanent: true},
		{status: http.StatusForbidden, permanent: true},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			t.Parallel()
			srv, calls := fakeSendGrid(t, tt.status, tt.body)
			s, err := NewSendGridSender(sendGridTestKey, WithBaseURL(srv.URL+"/"))
			if err != nil {
				t.Fatal(err)
			}
			err = s.Send(context.Background(), testMessage("job-21"))
			if calls.Load() != 1 {
				t.Errorf("%d requests, want exactly 1 (no inline retry)", calls.Load())
			}
			if tt.ok {
				if err != nil {
					t.Fatalf("Send: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Send succeeded")
			}
			if got := isPermanent(err); got != tt.permanent {
				t.Errorf("permanent = %v, want %v (%v)", got, tt.permanent, err)
			}
			if !strings.Contains(err.Error(), http.StatusText(tt.status)) {
				t.Errorf("error %q does not give the status", err)
			}
			if strings.Contains(err.Error(), sendGridTestKey) {
				t.Errorf("error holds the API key: %v", err)
			}
		})
	}
}

func TestSendGridNetworkErrorsAreRetryable(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		time.Sleep(200 * time.Millisecond)
	}))
	t.Cleanup(srv.Close)

	s, err := NewSendGridSender(sendGridTestKey, WithBaseURL(srv.URL),
		WithHTTPClient(&http.Client{Timeout: 20 * time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(context.Background(), testMessage("job-22"))
	if err == nil || isPermanent(err) || strings.Contains(err.Error(), sendGridTestKey) {
		t.Fatalf("timeout: err = %v, want a retryable error without the key", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Send(ctx, testMessage("job-22")); !errors.Is(err, context.Canceled) || isPermanent(err) {
		t.Fatalf("cancelled: err = %v, want context.Canceled", err)
	}
}

func TestSendGridDefaults(t *testing.T) {
	t.Parallel()
	if _, err := NewSendGridSender(" "); err == nil {
		t.Error("empty key accepted")
	}
	s, err := NewSendGridSender(sendGridTestKey)
	if err != nil {
		t.Fatal(err)
	}
	if s.baseURL != "https://api.sendgrid.com" || s.client.Timeout != 10*time.Second {
		t.Errorf("base URL %q, timeout %v", s.baseURL, s.client.Timeout)
	}
}

func TestSendGridBadAddressIsPermanent(t *testing.T) {
	t.Parallel()
	s, err := NewSendGridSender(sendGridTestKey, WithBaseURL("http://127.0.0.1:1"))
	if err != nil {
		t.Fatal(err)
	}
	m := testMessage("x")
	m.To = "nope"
	if err := s.Send(context.Background(), m); !isPermanent(err) {
		t.Fatalf("err = %v, want permanent", err)
	}
}
