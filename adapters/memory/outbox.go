package memory

import (
	"context"
	"slices"
	"sync"

	"github.com/lenticular/lenticular/modules/notify"
)

var _ notify.Queue = (*Outbox)(nil)

// Outbox is an in-process notify.Queue that keeps what was queued, for
// tests that need to read the emails (and the tokens inside them).
type Outbox struct {
	mu     sync.Mutex
	emails []notify.Email
}

// NewOutbox returns an empty outbox.
func NewOutbox() *Outbox { return &Outbox{} }

// Enqueue records e.
func (o *Outbox) Enqueue(ctx context.Context, e notify.Email) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.emails = append(o.emails, e)
	return nil
}

// Emails returns everything queued so far.
func (o *Outbox) Emails() []notify.Email {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.emails)
}

// Last returns the last email queued to address with template, if any.
func (o *Outbox) Last(to, template string) (notify.Email, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for i := len(o.emails) - 1; i >= 0; i-- {
		if e := o.emails[i]; e.To == to && e.Template == template {
			return e, true
		}
	}
	return notify.Email{}, false
}
