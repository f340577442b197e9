// Package notify sends people email: a use case asks for a templated email,
// the request returns at once, and a background job renders and delivers it.
// Jobs live in the application database, so an email is queued in the same
// transaction as the change that causes it and can never be lost between
// the two.
package notify

import (
	"context"
	"errors"
)

// Email is a request to send one templated email. It is what a job carries,
// so it holds only what the message itself will contain: never a password,
// and tokens only inside the links the email exists to deliver.
type Email struct {
	To       string            `json:"to"`
	Template string            `json:"template"`
	Data     map[string]string `json:"data,omitempty"`
	// Key makes enqueueing idempotent: a second Email with the same
	// non-empty Key is not queued again (batch re-runs).
	Key string `json:"key,omitempty"`
}

// Message is a rendered email, ready for a Sender.
type Message struct {
	From    string
	To      string
	Subject string
	Text    string
	HTML    string
	// ID is stable across retries of one job so a provider or the file
	// mailer can recognise a duplicate.
	ID string
}

// Queue schedules delivery. When ctx carries a database transaction the
// email is queued inside it: if the transaction rolls back, nothing is sent.
type Queue interface {
	Enqueue(ctx context.Context, e Email) error
}

// Sender delivers a rendered message (log, file, SMTP, SendGrid).
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// ErrUnknownTemplate is returned for a template name that does not exist.
var ErrUnknownTemplate = errors.New("unknown email template")

// ErrPermanent marks a delivery failure that retrying cannot fix (the
// provider rejected the address or the credentials); the job stops retrying.
var ErrPermanent = errors.New("permanent delivery failure")
