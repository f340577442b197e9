// Package sentrytest is a sentry.Transport that keeps events in memory, so
// tests can check what would be sent to Sentry.
package sentrytest

import (
	"context"
	"sync"
	"time"

	"github.com/getsentry/sentry-go"
)

// DSN is a syntactically valid DSN that points nowhere.
const DSN = "https://public@sentry.invalid/1"

// Transport captures events instead of sending them.
type Transport struct {
	mu     sync.Mutex
	events []*sentry.Event
}

var _ sentry.Transport = (*Transport)(nil)

// Configure implements sentry.Transport.
func (t *Transport) Configure(sentry.ClientOptions) {}

// SendEvent implements sentry.Transport.
func (t *Transport) SendEvent(e *sentry.Event) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.events = append(t.events, e)
}

// Flush implements sentry.Transport.
func (t *Transport) Flush(time.Duration) bool { return true }

// FlushWithContext implements sentry.Transport.
func (t *Transport) FlushWithContext(context.Context) bool { return true }

// Close implements sentry.Transport.
func (t *Transport) Close() {}

// Events returns the captured error events (not transactions).
func (t *Transport) Events() []*sentry.Event { return t.filter(false) }

// Transactions returns the captured transactions.
func (t *Transport) Transactions() []*sentry.Event { return t.filter(true) }

// Reset forgets what was captured.
func (t *Transport) Reset() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.events = nil
}

func (t *Transport) filter(transactions bool) []*sentry.Event {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []*sentry.Event
	for _, e := range t.events {
		if (e.Type == "transaction") == transactions {
			out = append(out, e)
		}
	}
	return out
}
