package mail

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	netmail "net/mail"
	"strings"
	"time"

	"github.com/lenticular/lenticular/modules/notify"
)

var _ notify.Sender = (*SendGridSender)(nil)

const (
	sendGridBaseURL  = "https://api.sendgrid.com"
	sendGridSendPath = "/v3/mail/send"
	sendGridTimeout  = 10 * time.Second
	// sendGridErrorBody is how much of an error answer an error quotes.
	sendGridErrorBody = 512
)

// SendGridSender delivers through the SendGrid v3 Web API (MAILER=sendgrid,
// SENDGRID_API_KEY). The message ID travels as custom_args.message_id, which
// SendGrid reports back in its event webhooks.
//
// A 2xx answer means accepted. 429 and 5xx answers and network failures are
// retryable errors: the job queue retries later, this sender never does. Any
// other 4xx (bad key, bad address, bad request) wraps notify.ErrPermanent. No
// error holds the API key.
type SendGridSender struct {
	apiKey  string
	baseURL string
	client  *http.Client
}

// SendGridOption adjusts a SendGridSender.
type SendGridOption func(*SendGridSender)

// WithBaseURL replaces https://api.sendgrid.com (tests, or a regional
// endpoint such as https://api.eu.sendgrid.com).
func WithBaseURL(u string) SendGridOption {
	return func(s *SendGridSender) { s.baseURL = strings.TrimRight(u, "/") }
}

// WithHTTPClient replaces the default client (which times out after 10 s).
func WithHTTPClient(c *http.Client) SendGridOption {
	return func(s *SendGridSender) {
		if c != nil {
			s.client = c
		}
	}
}

// NewSendGridSender returns a sender authenticating with apiKey.
func NewSendGridSender(apiKey string, opts ...SendGridOption) (*SendGridSender, error) {
	if strings.TrimSpace(apiKey) == "" {
		return nil, errors.New("API key is empty")
	}
	s := &SendGridSender{
		apiKey:  apiKey,
		baseURL: sendGridBaseURL,
		client:  &http.Client{Timeout: sendGridTimeout},
	}
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

type sendGridAddress struct {
	Email string `json:"email"`
	Name  string `json:"name,omitempty"`
}

type sendGridContent struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

type sendGridPersonalization struct {
	To []sendGridAddress `json:"to"`
}

type sendGridRequest struct {
	Personalizations []sendGridPersonalization `json:"personalizations"`
	From             sendGridAddress           `json:"from"`
	Subject          string                    `json:"subject"`
	Content          []sendGridContent         `json:"content"`
	CustomArgs       map[string]string         `json:"custom_args,omitempty"`
}

// Send posts m to the mail/send endpoint.
func (s *SendGridSender) Send(ctx context.Context, m notify.Message) error {
	body, err := sendGridBody(m)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.baseURL+sendGridSendPath, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("sendgrid: build request: %s", redact(err.Error(), s.apiKey))
	}
	req.Header.Set("Authorization", "Bearer "+s.apiKey)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")

	resp, err := s.client.Do(req)
	if err != nil {
		return &deliveryError{msg: "sendgrid: " + redact(err.Error(), s.apiKey), cause: err}
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, sendGridErrorBody))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // let the connection be reused

	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	detail := strings.Join(strings.Fields(redact(string(answer), s.apiKey)), " ")
	retryable := resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500
	msg := fmt.Sprintf("sendgrid: %s", resp.Status)
	if retryable {
		msg += " (will retry)"
	} else {
		msg += " (refused permanently)"
	}
	if detail != "" {
		msg += ": " + detail
	}
	return &deliveryError{msg: msg, permanent: !retryable}
}

// sendGridBody encodes m as a v3 mail/send request, text/plain first as the
// API requires.
func sendGridBody(m notify.Message) ([]byte, error) {
	from, err := netmail.ParseAddress(m.From)
	if err != nil {
		return nil, &deliveryError{msg: fmt.Sprintf("invalid From address %q: %v", m.From, err), permanent: true, cause: err}
	}
	to, err := netmail.ParseAddress(m.To)
	if err != nil {
		return nil, &deliveryError{msg: fmt.Sprintf("invalid To address %q: %v", m.To, err), permanent: true, cause: err}
	}
	r := sendGridRequest{
		Personalizations: []sendGridPersonalization{{To: []sendGridAddress{{Email: to.Address, Name: to.Name}}}},
		From:             sendGridAddress{Email: from.Address, Name: from.Name},
		Subject:          m.Subject,
	}
	if m.Text != "" {
		r.Content = append(r.Content, sendGridContent{Type: "text/plain", Value: m.Text})
	}
	if m.HTML != "" {
		r.Content = append(r.Content, sendGridContent{Type: "text/html", Value: m.HTML})
	}
	if len(r.Content) == 0 {
		return nil, &deliveryError{msg: "message has no body", permanent: true}
	}
	if m.ID != "" {
		r.CustomArgs = map[string]string{"message_id": m.ID}
	}
	return json.Marshal(r)
}
