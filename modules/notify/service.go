package notify

import (
	"context"
	"fmt"
)

// Deliverer is the use case a background job runs: render one Email and hand
// the message to the configured Sender.
type Deliverer struct {
	renderer *Renderer
	sender   Sender
}

// NewDeliverer returns a Deliverer rendering with r and sending through s.
func NewDeliverer(r *Renderer, s Sender) *Deliverer {
	return &Deliverer{renderer: r, sender: s}
}

// Deliver renders e and sends it with the given message ID, which must stay
// the same across retries of one job so a provider can spot a duplicate.
//
// A render failure (unknown template, missing data) wraps ErrPermanent: the
// same Email would fail the same way on every retry. A send failure is
// returned as the Sender reported it, permanent or not.
func (d *Deliverer) Deliver(ctx context.Context, e Email, messageID string) error {
	m, err := d.renderer.Render(e)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrPermanent, err)
	}
	m.ID = messageID
	if err := d.sender.Send(ctx, m); err != nil {
		return fmt.Errorf("send %s email: %w", e.Template, err)
	}
	return nil
}
